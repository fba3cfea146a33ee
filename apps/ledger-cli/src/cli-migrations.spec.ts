import { TEST_MIGRATIONS } from '@ledger/testing';
import { CLI_MIGRATIONS } from './cli-migrations';

describe('the schema ledger-cli migrates', () => {
  it('is the one the ledger and the tests run on: every lib’s migrations, none left out', () => {
    const names = (list: typeof CLI_MIGRATIONS) => list.map((listed) => new listed().name);
    expect(names(CLI_MIGRATIONS)).toEqual(names(TEST_MIGRATIONS));
  });
});
