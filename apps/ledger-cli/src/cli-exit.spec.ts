import { CommanderError } from 'commander';
import { CommandError } from '@ledger/commands';
import { ProjectorError } from '@ledger/event-store';
import { OrderTableError } from '@ledger/legacy-import';
import { ConfigError } from '@ledger/platform';
import { ProjectionsError } from '@ledger/projections';
import { CliError, failureOf } from './cli-exit';

describe('failureOf', () => {
  it.each([
    [new CliError('PENDING_MIGRATIONS', 'pending'), 78, 'PENDING_MIGRATIONS'],
    [new CliError('DATABASE_UNAVAILABLE', 'no'), 69, 'DATABASE_UNAVAILABLE'],
    [new CliError('CANNOT_CREATE', 'no'), 73, 'CANNOT_CREATE'],
    [new CliError('NO_INPUT', 'no'), 66, 'NO_INPUT'],
    [new ConfigError(['ALIPAY_SIGN_TYPE=SHA1']), 78, 'CONFIG'],
    [new CommanderError(1, 'commander.unknownOption', 'unknown option'), 64, 'USAGE'],
    [new OrderTableError('no column "id"'), 64, 'USAGE'],
    [new ProjectionsError('INVALID_FILTER', 'from: required', 'from'), 64, 'INVALID_FILTER'],
    [new ProjectionsError('STALE_ORDER_STATE', 'rebuild'), 1, 'STALE_ORDER_STATE'],
    [new CommandError('INVALID_REPLAY_SELECTION', 'ids'), 64, 'INVALID_REPLAY_SELECTION'],
    [new ProjectorError('REBUILD_IN_PROGRESS', 'busy'), 75, 'REBUILD_IN_PROGRESS'],
    [new ProjectorError('UNKNOWN_PROJECTION', 'no such'), 64, 'UNKNOWN_PROJECTION'],
    [new ProjectorError('WAIT_TIMEOUT', 'late'), 1, 'WAIT_TIMEOUT'],
  ])('maps %s to exit code %d', (error, exit, code) => {
    expect(failureOf(error)).toEqual({ exit, code, message: error.message });
  });

  it('maps anything else to 1, keeping its stack for stderr', () => {
    const failure = failureOf(new TypeError('boom'));
    expect(failure).toMatchObject({ exit: 1, code: 'FAILURE', message: 'boom' });
    expect(failure.stack).toMatch(/TypeError: boom/);
    expect(failureOf('a string')).toEqual({ exit: 1, code: 'FAILURE', message: 'a string' });
  });
});
