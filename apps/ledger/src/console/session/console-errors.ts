/** A console page was asked for without a live session: a GET is sent to the sign-in page. */
export class ConsoleSignInRequired extends Error {
  override readonly name = 'ConsoleSignInRequired';

  constructor() {
    super('sign in to use the console');
  }
}

/**
 * A POST the console refuses before reading it (docs/console.md, "Sign-in, sessions and CSRF"): without the
 * session's form token, or sent by a page of another origin.
 */
export class ConsoleForbidden extends Error {
  override readonly name = 'ConsoleForbidden';

  constructor(
    readonly reason: 'csrf_token' | 'cross_origin',
    message: string,
  ) {
    super(message);
  }
}
