import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { MysqlConfig } from '../../src/connectors/mysql/type.ts';
import type { MappedRecord } from '../../src/engine/model/plan.ts';
import { openMysqlTarget } from '../../src/engine/model/targets/mysql.ts';
import type { ModelSyncMode } from '../../src/store/schema.ts';
import { createMysqlDatabase, type MysqlTestConfig, type TestDatabase } from '../support/databases.ts';

const record = (identity: string, v: string): MappedRecord => ({
  identity,
  values: [identity, v],
  hash: `${identity}:${v}`,
});

describe('mysql model target', () => {
  let db: TestDatabase<MysqlTestConfig>;

  before(async () => {
    db = await createMysqlDatabase();
  });
  after(async () => {
    await db?.drop();
  });

  const open = (table: string, mode: ModelSyncMode, syncId: string) =>
    openMysqlTarget(db.config as unknown as MysqlConfig, {
      syncId,
      object: table,
      mode,
      columns: ['id', 'v'],
      identityIndex: 0,
      signal: new AbortController().signal,
    });
  const apply = async (table: string, mode: ModelSyncMode, syncId: string, records: MappedRecord[]) => {
    const target = await open(table, mode, syncId);
    try {
      await target.begin();
      const result = await target.apply(records);
      await target.finish(undefined);
      return result;
    } finally {
      await target.close();
    }
  };

  it('finds the rows of identities that the driver would not read back as the same text: big integers, dates', async () => {
    const cases = [
      { type: 'bigint', ids: ['9007199254740993', '12'] },
      { type: 'date', ids: ['2024-01-01', '2024-01-02'] },
    ];
    for (const { type, ids } of cases) {
      const table = `t_${type}`;
      await db.query(`create table ${table} (id ${type}, v varchar(10))`);
      const syncId = randomUUID();
      const first = await apply(table, 'updateOrCreate', syncId, [
        record(ids[0]!, 'a'),
        record(ids[1]!, 'b'),
      ]);
      assert.equal(first.inserted.length, 2, type);
      const second = await apply(table, 'updateOrCreate', syncId, [
        record(ids[0]!, 'a2'),
        record(ids[1]!, 'b2'),
      ]);
      assert.deepEqual(
        { inserted: second.inserted.length, updated: second.updated.length },
        { inserted: 0, updated: 2 },
        type,
      );
      const rows = await db.query(`select cast(id as char) as id, v from ${table} order by id`);
      assert.deepEqual(
        rows.map((r) => [String(r.id), r.v]),
        [
          [ids[1], 'b2'],
          [ids[0], 'a2'],
        ].sort((a, b) => (a[0]! < b[0]! ? -1 : 1)),
        type,
      );
      const removed = await apply(table, 'remove', syncId, [record(ids[0]!, 'a2')]);
      assert.equal(removed.deleted.length, 1, type);
    }
  });

  it('updates and removes just the row of an identity, whatever the column collation takes for equal', async () => {
    // The database's collation (utf8mb4_unicode_ci) takes 'A' for 'a' and 'é' for 'e'.
    await db.query('create table t_ci (id varchar(10), v varchar(20))');
    const syncId = randomUUID();
    const all = [record('A', 'upper'), record('a', 'lower'), record('é', 'acute'), record('e', 'plain')];
    assert.equal((await apply('t_ci', 'updateOrCreate', syncId, all)).inserted.length, 4);
    const second = await apply('t_ci', 'updateOrCreate', syncId, [
      record('a', 'lower2'),
      record('e', 'plain2'),
    ]);
    assert.deepEqual(
      { inserted: second.inserted.length, updated: second.updated.length },
      { inserted: 0, updated: 2 },
    );
    const rows = async () => (await db.query('select id, v from t_ci')).map((r) => `${r.id}=${r.v}`).sort();
    assert.deepEqual(await rows(), ['A=upper', 'a=lower2', 'e=plain2', 'é=acute']);
    assert.equal((await apply('t_ci', 'remove', syncId, [record('a', 'lower2')])).deleted.length, 1);
    assert.deepEqual(await rows(), ['A=upper', 'e=plain2', 'é=acute']);
  });

  it("forgets the hashes it delivered for one sync only (an append resync's first step)", async () => {
    await db.query('create table t_forget (id int, v varchar(10))');
    const [appended, other] = [randomUUID(), randomUUID()];
    await apply('t_forget', 'append', appended, [record('1', 'a'), record('2', 'b')]);
    await apply('t_forget', 'append', other, [record('3', 'c')]);
    /** The identities whose hashes the sync's state holds; `forget` first when asked. */
    const known = async (syncId: string, forget = false) => {
      const target = await open('t_forget', 'append', syncId);
      try {
        if (forget) await target.forget();
        const identities: string[] = [];
        await target.loadState((identity) => identities.push(identity));
        return identities;
      } finally {
        await target.close();
      }
    };
    assert.deepEqual(await known(appended), ['1', '2']);
    assert.deepEqual(await known(appended, true), []);
    assert.deepEqual(await known(other), ['3'], "another sync's hashes stay");
  });
});
