import { usage } from './cli-exit';

/** Options every command takes (docs/operations.md, "The CLI"). */
export interface GlobalOptions {
  json?: boolean;
  verbose?: boolean;
}

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

/** An ISO 8601 instant with its zone; anything else is a usage error naming the option. */
export function parseInstant(value: string, option: string): Date {
  if (!INSTANT.test(value) || Number.isNaN(Date.parse(value))) {
    throw usage(
      `${option} ${JSON.stringify(value)}: an ISO 8601 instant with its zone, e.g. 2024-05-01T00:00:00Z`,
    );
  }
  return new Date(value);
}

/** `[from, to)`: both given, or neither; `to` after `from`. */
export function parseRange(
  from: string | undefined,
  to: string | undefined,
): { from: Date; to: Date } | undefined {
  if (from === undefined && to === undefined) return undefined;
  if (from === undefined || to === undefined) throw usage('--from and --to go together');
  const range = { from: parseInstant(from, '--from'), to: parseInstant(to, '--to') };
  if (range.from.getTime() >= range.to.getTime()) throw usage('--to must be after --from');
  return range;
}
