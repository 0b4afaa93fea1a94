import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PostgresConfig } from '../../src/connectors/postgres/index.ts';
import type { PlannedRecord } from '../../src/engine/model/plan.ts';
import { openPostgresTarget } from '../../src/engine/model/targets/postgres.ts';
import type {
  ChunkedModelTarget,
  ChunkOutcome,
  JsonLines,
  ModelChunk,
} from '../../src/engine/model/targets.ts';
import type { ModelSyncMode } from '../../src/store/schema.ts';
import { createPgDatabase, type PgTestConfig, type TestDatabase } from '../support/databases.ts';

const record = (id: number, name: string): PlannedRecord => ({ key: String(id), values: [String(id), name] });

/** What a whole run did, summed over its outcomes. */
interface Sums {
  rows: number;
  sent: number;
  inserted: string[];
  updated: string[];
  duplicates: string[];
  rejected: string[];
}

/** Records printed as JSON lines, one string each. */
const printedLines = (lines: JsonLines | undefined) =>
  lines?.count ? lines.bytes.toString('utf8').trimEnd().split('\n') : [];

async function sendWhole(
  target: ChunkedModelTarget,
  chunks: () => AsyncGenerator<ModelChunk>,
): Promise<Sums> {
  const sums: Sums = { rows: 0, sent: 0, inserted: [], updated: [], duplicates: [], rejected: [] };
  for await (const o of target.sendWhole(chunks()) as AsyncIterable<ChunkOutcome>) {
    sums.rows += o.rows;
    sums.sent += o.sent;
    sums.inserted.push(...o.inserted, ...printedLines(o.printed?.inserts));
    sums.updated.push(...o.updated, ...printedLines(o.printed?.updates));
    sums.duplicates.push(...o.duplicates.map((d) => d.identity));
    sums.rejected.push(...o.rejected.map((r) => r.reason));
  }
  return sums;
}

describe('postgresql model target, runs from no state', () => {
  let db: TestDatabase<PgTestConfig>;
  let config: PostgresConfig;

  before(async () => {
    db = await createPgDatabase();
    config = db.config as PostgresConfig;
  });
  after(async () => {
    await db?.drop();
  });

  const open = async (table: string, mode: ModelSyncMode, syncId = randomUUID()) => {
    const target = await openPostgresTarget(config, {
      syncId,
      object: `public.${table}`,
      mode,
      columns: ['id', 'name'],
      identityIndex: 0,
      signal: new AbortController().signal,
    });
    return { target, syncId, state: `_ferry_model_state_${syncId.replaceAll('-', '')}` };
  };

  it('writes the whole model at once: rows the target had are updates, the state holds every identity', async () => {
    await db.query(
      `create table t_whole (id int primary key, name text); insert into t_whole values (2, 'old')`,
    );
    const { target, state } = await open('t_whole', 'updateOrCreate');
    try {
      assert.equal(await target.begin(), 0);
      const sums = await sendWhole(target, async function* () {
        yield { records: [record(1, 'a'), record(2, 'b')] };
        yield { records: [record(3, 'c')] };
      });
      assert.equal(sums.rows, 3);
      assert.equal(sums.sent, 3);
      assert.deepEqual(sums.updated, ['{"id":"2","name":"b"}']);
      assert.equal(sums.inserted.length, 2);
      assert.equal(await target.finish('sent', () => undefined), 0);
    } finally {
      await target.close();
    }
    assert.deepEqual(await db.query('select id, name from t_whole order by id'), [
      { id: 1, name: 'a' },
      { id: 2, name: 'b' },
      { id: 3, name: 'c' },
    ]);
    const hashes = await db.query(`select identity, hash::text from ${state} order by identity`);
    assert.deepEqual(
      hashes.map((h) => h.identity),
      ['1', '2', '3'],
    );
    // A new state keeps 64-bit hashes of the record's text.
    const [hashed] = await db.query(`select hashtextextended(row('2', 'b')::text, 0)::text as h`);
    assert.equal(hashes[1].hash, hashed.h);
    // The key on the state is back after it was built without one.
    const [key] = await db.query(
      `select count(*)::int as n from pg_index where indrelid = '${state}'::regclass and indisprimary`,
    );
    assert.equal(key.n, 1);
    // Pages keep room, so a changed hash is rewritten in place (a HOT update) and the key is left alone.
    const [options] = await db.query(`select reloptions from pg_class where oid = '${state}'::regclass`);
    assert.deepEqual(options.reloptions, ['fillfactor=90']);
  });

  it('an identity repeated in a later batch is a duplicate, not sent twice; a refused record is rejected alone', async () => {
    await db.query(`create table t_batches (id int primary key, name text check (name <> 'bad'))`);
    const { target, state } = await open('t_batches', 'updateOrCreate');
    try {
      await target.begin();
      const sums = await sendWhole(target, async function* () {
        yield { records: [record(1, 'first'), record(2, 'b')] };
        yield { records: [record(3, 'c')] };
        // Past the time a batch may take to stage: the next chunk closes the first batch.
        await sleep(5_100);
        yield { records: [record(4, 'd')] };
        yield { records: [record(1, 'again'), record(5, 'bad'), record(6, 'f')] };
      });
      assert.equal(sums.rows, 7);
      assert.deepEqual(sums.duplicates, ['1']);
      assert.equal(sums.rejected.length, 1);
      assert.match(sums.rejected[0]!, /check constraint/);
      assert.equal(sums.sent, 6);
      assert.equal(await target.finish('sent', () => undefined), 0);
    } finally {
      await target.close();
    }
    assert.deepEqual(await db.query('select id, name from t_batches order by id'), [
      { id: 1, name: 'first' },
      { id: 2, name: 'b' },
      { id: 3, name: 'c' },
      { id: 4, name: 'd' },
      { id: 6, name: 'f' },
    ]);
    const [kept] = await db.query(`select count(*)::int as n from ${state}`);
    assert.equal(kept.n, 5);
  });

  it('create, update and remove act only on identities the target lacks or has', async () => {
    await db.query(
      `create table t_modes (id int primary key, name text); insert into t_modes values (1, 'kept')`,
    );
    const create = await open('t_modes', 'create');
    try {
      await create.target.begin();
      const sums = await sendWhole(create.target, async function* () {
        yield { records: [record(1, 'new'), record(2, 'b')] };
      });
      assert.deepEqual([sums.sent, sums.inserted.length, sums.updated.length], [2, 1, 0]);
    } finally {
      await create.target.close();
    }
    // Update mode has no whole-model statements: the staged batch goes through chunk statements.
    const update = await open('t_modes', 'update');
    try {
      await update.target.begin();
      const sums = await sendWhole(update.target, async function* () {
        yield { records: [record(2, 'b2'), record(7, 'absent'), record(2, 'again')] };
      });
      assert.deepEqual([sums.sent, sums.updated, sums.duplicates], [2, ['{"id":"2","name":"b2"}'], ['2']]);
    } finally {
      await update.target.close();
    }
    const remove = await open('t_modes', 'remove');
    try {
      await remove.target.begin();
      let deleted = 0;
      for await (const o of remove.target.sendWhole(
        (async function* () {
          yield { records: [record(2, 'b'), record(9, 'z')] };
        })(),
      ))
        deleted += o.deleted.length + (o.printed?.deletes.count ?? 0);
      assert.equal(deleted, 1);
    } finally {
      await remove.target.close();
    }
    assert.deepEqual(await db.query('select id, name from t_modes order by id'), [{ id: 1, name: 'kept' }]);
  });

  it('a snapshot replaces the content in one transaction, duplicates warned of in it', async () => {
    await db.query(
      `create table t_snap (id int primary key, name text); insert into t_snap values (8, 'gone')`,
    );
    const { target, state } = await open('t_snap', 'snapshot');
    try {
      await target.begin();
      const sums = await sendWhole(target, async function* () {
        yield { records: [record(1, 'a'), record(2, 'b'), record(1, 'again')] };
      });
      assert.deepEqual([sums.rows, sums.sent, sums.duplicates], [3, 2, ['1']]);
      // Nothing is visible to others before the snapshot's one commit.
      assert.deepEqual(await db.query('select id from t_snap'), [{ id: 8 }]);
      assert.equal(await target.finish('sent', () => undefined), 1);
    } finally {
      await target.close();
    }
    assert.deepEqual(await db.query('select id, name from t_snap order by id'), [
      { id: 1, name: 'a' },
      { id: 2, name: 'b' },
    ]);
    const [kept] = await db.query(`select count(*)::int as n from ${state}`);
    assert.equal(kept.n, 2);
  });

  it('takes over what a sync kept in the state table all syncs shared', async () => {
    await db.query('create table t_shared (id int primary key, name text)');
    const syncId = randomUUID();
    await db.query(`create table _ferry_model_state (sync_id text not null, identity text not null, hash text not null,
        primary key (sync_id, identity));
      insert into _ferry_model_state values ('${syncId}', '1', md5('x')), ('${syncId}', '2', md5('y')), ('other', '1', md5('z'))`);
    const { target, state } = await open('t_shared', 'updateOrCreate', syncId);
    try {
      assert.equal(await target.begin(false), 1, 'not counted: whether any identity is known');
      assert.equal(await target.begin(), 2);
    } finally {
      await target.close();
    }
    assert.deepEqual(
      await db.query(`select identity, hash = md5('x')::uuid as same from ${state} order by identity`),
      [
        { identity: '1', same: true },
        { identity: '2', same: false },
      ],
    );
    assert.deepEqual(await db.query('select sync_id from _ferry_model_state'), [{ sync_id: 'other' }]);
  });

  it('a state table created before keeps hashing records with md5', async () => {
    await db.query(`create table t_md5 (id int primary key, name text); insert into t_md5 values (1, 'a')`);
    const syncId = randomUUID();
    const older = `_ferry_model_state_${syncId.replaceAll('-', '')}`;
    await db.query(`create table ${older} (identity text not null, constraint ${older}_pkey primary key (identity), hash uuid not null);
      insert into ${older} values ('1', md5(row('1', 'a')::text)::uuid)`);
    const { target, state } = await open('t_md5', 'updateOrCreate', syncId);
    try {
      assert.equal(target.recordHash, 'md5');
      assert.equal(await target.begin(), 1);
      // The unchanged record is recognised by its md5; the new one is remembered by its own.
      const outcome = await target.send({ records: [record(1, 'a'), record(2, 'b')] }, false);
      assert.deepEqual([outcome.sent, outcome.inserted], [1, ['{"id":"2","name":"b"}']]);
    } finally {
      await target.close();
    }
    assert.deepEqual(
      await db.query(`select identity, hash = md5(row(identity, name)::text)::uuid as same
        from ${state} join t_md5 on id::text = identity order by identity`),
      [
        { identity: '1', same: true },
        { identity: '2', same: true },
      ],
    );
    const fresh = await open('t_md5', 'updateOrCreate');
    await fresh.target.close();
    assert.equal(fresh.target.recordHash, 'hash64');
  });

  it('orders identities byte by byte, also in a state table created before, which keeps its rows', async () => {
    await db.query('create table t_collate (id int primary key, name text)');
    const syncId = randomUUID();
    const older = `_ferry_model_state_${syncId.replaceAll('-', '')}`;
    await db.query(`create table ${older} (identity text not null, constraint ${older}_pkey primary key (identity), hash uuid not null);
      insert into ${older} values ('1', md5('x')::uuid)`);
    const { target, state } = await open('t_collate', 'updateOrCreate', syncId);
    try {
      assert.equal(await target.begin(), 1);
    } finally {
      await target.close();
    }
    const collation = `select a.attcollation::regcollation::text as c from pg_attribute a
      where a.attrelid = $1::regclass and a.attname = 'identity'`;
    assert.deepEqual(await db.query(collation, [state]), [{ c: '"C"' }]);
    const fresh = await open('t_collate', 'updateOrCreate');
    await fresh.target.close();
    assert.deepEqual(await db.query(collation, [fresh.state]), [{ c: '"C"' }]);
    const [key] = await db.query(
      `select count(*)::int as n from pg_index where indrelid = $1::regclass and indisprimary`,
      [state],
    );
    assert.equal(key.n, 1);
  });
});
