import { createHash } from 'node:crypto';
import { Client, type QueryConfig } from 'pg';

/** Uses of the same statement text on one connection before it is prepared (named). */
export const PREPARE_THRESHOLD = 3;
/** Prepared statements kept per connection; past it, statements are sent unnamed as before. */
export const MAX_PREPARED_PER_CONNECTION = 256;
/**
 * Distinct statement texts counted per connection. When full, new texts are no longer counted (and never
 * prepared): the hot statements are the ones a connection meets early and often, while texts built per
 * call (a VALUES list as long as its batch) would otherwise push them out before they reach the threshold.
 */
const MAX_COUNTED_TEXTS = 4_096;

/**
 * A pg client that prepares the statements it runs repeatedly (docs/operations.md, "Prepared statements").
 * The driver sends parameterised statements unnamed, which PostgreSQL parses and plans on every call: for
 * the ledger's short statements the planning costs as much as the execution. Like pgjdbc's
 * `prepareThreshold` and Npgsql's automatic preparation, a text seen `PREPARE_THRESHOLD` times on a
 * connection is given a name derived from it, so PostgreSQL keeps its parse and (when it pays) its plan for
 * the connection's life. Statements without parameters (`BEGIN`, `COMMIT`) and texts beyond the per-connection
 * budget go unnamed. A schema change invalidates the kept plans; PostgreSQL plans again by itself.
 */
export class PreparingClient extends Client {
  private readonly counts = new Map<string, number>();
  private readonly names = new Map<string, string>();

  // pg's overloads are many; the ones TypeORM and the ledger use are (text, values) and (config).
  override query(...args: unknown[]): never {
    const [text, values] = args;
    if (typeof text === 'string' && Array.isArray(values) && values.length > 0 && args.length === 2) {
      const name = this.nameFor(text);
      if (name !== undefined) {
        const config: QueryConfig = { name, text, values };
        return (super.query as unknown as (config: QueryConfig) => never).call(this, config);
      }
    }
    return (super.query as unknown as (...rest: unknown[]) => never).apply(this, args);
  }

  private nameFor(text: string): string | undefined {
    const known = this.names.get(text);
    if (known !== undefined) return known;
    if (this.names.size >= MAX_PREPARED_PER_CONNECTION) return undefined;
    const count = (this.counts.get(text) ?? 0) + 1;
    if (count < PREPARE_THRESHOLD) {
      if (count > 1 || this.counts.size < MAX_COUNTED_TEXTS) this.counts.set(text, count);
      return undefined;
    }
    this.counts.delete(text);
    const name = `ledger_${createHash('sha1').update(text).digest('base64url')}`;
    this.names.set(text, name);
    return name;
  }
}
