import { DomainError } from './domain-error';

/** An operator's name: printable ASCII without spaces at the ends, as the CLI's `--operator`. */
const OPERATOR = /^[\x21-\x7e](?:[\x20-\x7e]{0,62}[\x21-\x7e])?$/;

/** The longest reason kept with a resolution, in characters. */
export const MAX_RESOLUTION_REASON_LENGTH = 500;

/**
 * Refuses a resolution that would not say who and why (docs/product-rules.md, "Operator resolutions"):
 * `operator` 1–64 printable ASCII characters, `reason` 1–500 characters not all blank.
 */
export function checkResolution(operator: string, reason: string): void {
  if (!OPERATOR.test(operator)) {
    throw new DomainError(
      'INVALID_RESOLUTION',
      'operator must be 1 to 64 printable ASCII characters, without spaces at the ends',
      'operator',
    );
  }
  if (reason.trim() === '' || reason.length > MAX_RESOLUTION_REASON_LENGTH) {
    throw new DomainError(
      'INVALID_RESOLUTION',
      `reason must be 1 to ${MAX_RESOLUTION_REASON_LENGTH} characters, not all blank`,
      'reason',
    );
  }
}
