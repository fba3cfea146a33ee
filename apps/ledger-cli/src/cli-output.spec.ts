import { CliOutput } from './cli-output';

function stream(isTTY: boolean): NodeJS.WriteStream & { written: string } {
  const sink = {
    isTTY,
    written: '',
    columns: 80,
    write(chunk: string) {
      sink.written += chunk;
      return true;
    },
    on: () => sink,
    removeListener: () => sink,
    cursorTo: () => true,
    clearLine: () => true,
    moveCursor: () => true,
  };
  return sink as unknown as NodeJS.WriteStream & { written: string };
}

describe('CliOutput', () => {
  it('writes the result as text, or as one JSON document with --json', () => {
    const stdout = stream(false);
    new CliOutput(false, stdout, stream(false)).result({ rows: 2 }, (r) => `${r.rows} rows\n`);
    expect(stdout.written).toBe('2 rows\n');
    const json = stream(false);
    new CliOutput(true, json, stream(false)).result({ rows: 2 }, () => 'ignored');
    expect(JSON.parse(json.written)).toEqual({ rows: 2 });
  });

  it('draws progress on a terminal’s stderr only, never with --json', () => {
    for (const [json, isTTY] of [
      [false, false],
      [true, true],
    ] as const) {
      const stderr = stream(isTTY);
      const bar = new CliOutput(json, stream(false), stderr).progress('rebuild');
      bar.update(5, 10);
      bar.stop();
      expect(stderr.written).toBe('');
    }
    const terminal = stream(true);
    const bar = new CliOutput(false, stream(false), terminal).progress('rebuild');
    bar.update(5, 10);
    bar.update(10, 10);
    bar.stop();
    bar.stop();
    expect(terminal.written).toContain('rebuild');
    expect(terminal.written).toContain('10/10');
  });
});
