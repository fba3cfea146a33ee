import { TEST_MIGRATIONS } from '@ledger/testing';
import { LEDGER_MIGRATIONS } from './ledger-migrations';

const names = (list: ReadonlyArray<new () => { name?: string }>) => list.map((listed) => new listed().name);

describe("the ledger's schema", () => {
  it('is the schema the tests run on: every lib’s migrations, none left out', () => {
    expect(names(LEDGER_MIGRATIONS)).toEqual(names(TEST_MIGRATIONS));
  });

  it('keeps the names recorded in migrated databases, in the order they were applied', () => {
    expect(names(LEDGER_MIGRATIONS).slice(0, 11)).toEqual([
      'EventStore1732000000001',
      'Projector1732000000002',
      'Inbox1732000000003',
      'OrderProjections1732000000004',
      'RefundBatchProjection1732000000005',
      'RefundBatchSerial1732000000006',
      'InboxRecordNotification1732000000007',
      'InboxHotOutcomes1732000000008',
      'InboxPurge1732000000009',
      'WorkerLeases1732000000010',
      'SchemaVersions1732000000011',
    ]);
  });
});
