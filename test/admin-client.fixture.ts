/**
 * The admin API as a test calls it: `call` sends JSON with the bearer token (another, or none with null) and
 * gives the response as it came; `get` expects 200 and reads the JSON. `baseUrl` is read at each call: the
 * ledger listens once the test's `beforeAll` has run.
 */
export function adminClient(baseUrl: () => string, token: string) {
  const call = (method: string, path: string, body?: unknown, as: string | null = token) =>
    fetch(`${baseUrl()}${path}`, {
      method,
      headers: {
        ...(as === null ? {} : { authorization: `Bearer ${as}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const get = async <T>(path: string): Promise<T> => {
    const response = await call('GET', path);
    expect(response.status).toBe(200);
    return (await response.json()) as T;
  };
  return { call, get };
}
