// Integration and end-to-end tests start databases and processes: a 5 s default would fail them on a busy
// machine without telling anything about the code. (Jest ignores `testTimeout` inside `projects`.)
jest.setTimeout(180_000);
