/**
 * `work`, or a rejection naming `what` once `ms` have passed, whichever comes first. The work itself goes on
 * (a statement cannot be called back); its late result is dropped. For answers that must come in time
 * whatever the database does: a scrape, a readiness check.
 */
export function withinTime<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
