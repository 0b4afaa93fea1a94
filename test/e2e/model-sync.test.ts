import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import { PolytomicClient, PolytomicError } from 'polytomic';
import {
  createMysqlDatabase,
  createPgDatabase,
  type PgTestConfig,
  type TestDatabase,
  tempDir,
} from '../support/databases.ts';
import { type FerryProcess, http, startFerry } from '../support/ferry.ts';
import { startAll } from '../support/start-all.ts';
import { until } from '../support/until.ts';

// Model syncs end to end: a real `ferry serve`, the polytomic SDK and plain HTTP, from a PostgreSQL
// model into PostgreSQL and MariaDB tables and a local HTTP API.

async function failure(call: () => Promise<unknown>): Promise<{ status: number; body: any }> {
  try {
    await call();
  } catch (error) {
    assert.ok(error instanceof PolytomicError, String(error));
    return { status: error.statusCode!, body: error.body };
  }
  assert.fail('the call succeeded');
}

const terminal = ['completed', 'failed', 'canceled', 'interrupted'];

/** A local HTTP target: records every batch; `plan` decides each response. */
function httpTarget() {
  const batches: { headers: IncomingMessage['headers']; body: any }[] = [];
  let plan: (body: any, n: number) => { status: number; body?: unknown } = () => ({ status: 200 });
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk) => (text += chunk));
    req.on('end', () => {
      if (req.method !== 'POST') return res.writeHead(204).end();
      const body = JSON.parse(text);
      const answer = plan(body, batches.length);
      batches.push({ headers: req.headers, body });
      res
        .writeHead(answer.status, { 'content-type': 'application/json' })
        .end(JSON.stringify(answer.body ?? {}));
    });
  });
  return {
    batches,
    setPlan: (next: typeof plan) => {
      plan = next;
    },
    async listen() {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}/ingest`;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('model syncs end to end', () => {
  let ferry: FerryProcess;
  let sdk: PolytomicClient;
  let source: TestDatabase<PgTestConfig>;
  let target: TestDatabase<PgTestConfig>;
  let mysql: TestDatabase<PgTestConfig>;
  const api = httpTarget();
  let sourceId: string;
  let targetId: string;
  let mysqlId: string;
  let httpId: string;

  const run = async (syncId: string, resync = false) => {
    const started = (await sdk.modelSync.start(syncId, { resync })).data!;
    return until(
      async () => (await sdk.modelSync.executions.get(syncId, started.id!)).data!,
      (execution) => terminal.includes(execution.status!),
      `execution ${started.id}`,
    );
  };

  /** A source table of four people and a model on it, named after the test. */
  const people = async (name: string) => {
    await source.query(`create table ${name} (id int primary key, email text not null, name text, score int);
      insert into ${name} values (1, 'a@x.io', 'Ann', 10), (2, 'b@x.io', 'Bob', 20), (3, 'c@x.io', 'Cy', 30),
        (4, 'd@x.io', 'Di', 40)`);
    const model = (
      await sdk.models.create({
        body: {
          name,
          connection_id: sourceId,
          configuration: { query: `select id, email, name, score from ${name}` },
          identifier: 'id',
        },
      })
    ).data!;
    return model.id!;
  };
  /** Between two runs: Bob is renamed, Cy leaves, Eve arrives. */
  const change = (name: string) =>
    source.query(`update ${name} set name = 'Bobby' where id = 2; delete from ${name} where id = 3;
      insert into ${name} values (5, 'e@x.io', 'Eve', 50)`);
  const fieldsOf = (modelId: string, names = ['id', 'email', 'name', 'score']) =>
    names.map((field) => ({ source: { model_id: modelId, field }, target: field }));
  const identityOf = (modelId: string) => ({
    source: { model_id: modelId, field: 'id' },
    target: 'id',
    function: 'Equality' as const,
  });
  const rowsOf = (db: TestDatabase<PgTestConfig>, table: string, order = 'id') =>
    db.query(`select id, email, name, score from ${table} order by ${order}`);
  const createSync = async (body: Record<string, unknown>) =>
    (await sdk.modelSync.create({ schedule: { frequency: 'manual' }, ...(body as any) })).data!;

  before(async () => {
    [ferry, source, target, mysql] = await startAll([
      startFerry(),
      createPgDatabase(),
      createPgDatabase(),
      createMysqlDatabase(),
    ]);
    sdk = new PolytomicClient({ environment: ferry.url, token: ferry.adminKey, version: '2024-02-08' });
    const url = await api.listen();
    sourceId = (
      await sdk.connections.create({ name: 'src', type: 'postgresql', configuration: source.config })
    ).data!.id!;
    targetId = (
      await sdk.connections.create({ name: 'dst', type: 'postgresql', configuration: target.config })
    ).data!.id!;
    mysqlId = (await sdk.connections.create({ name: 'maria', type: 'mysql', configuration: mysql.config }))
      .data!.id!;
    httpId = (
      await sdk.connections.create({
        name: 'api',
        type: 'http',
        configuration: { url, batch_size: 2, headers: { 'x-team': 'data' }, auth_header: 'Bearer s3cret' },
      })
    ).data!.id!;
  });

  after(async () => {
    await ferry?.stop();
    await api.close();
    await Promise.all([source?.drop(), target?.drop(), mysql?.drop()]);
  });

  it('updateOrCreate into PostgreSQL sends only what changed, and everything on a resync', async () => {
    const modelId = await people('src_upsert');
    await target.query('create table t_upsert (id int primary key, email text, name text, score int)');
    const sync = await createSync({
      name: 'upsert',
      mode: 'updateOrCreate',
      target: { connection_id: targetId, object: 'public.t_upsert' },
      fields: fieldsOf(modelId),
      identity: identityOf(modelId),
    });
    const first = await run(sync.id!);
    assert.equal(first.status, 'completed', JSON.stringify(first));
    assert.deepEqual(first.counts, {
      delete: 0,
      error: 0,
      insert: 4,
      total: 4,
      update: 0,
      upserts: 4,
      warnings: 0,
    });
    // The first run writes the whole model at once; its inserts log has each record as a JSON line.
    const inserts = (await sdk.modelSync.executions.getLogUrls(sync.id!, first.id!, 'inserts')).data!;
    const logged = (await (await fetch(`${ferry.url}${inserts.urls![0]}`)).text()).split('\n');
    assert.equal(logged.pop(), '');
    assert.deepEqual(logged.sort(), [
      '{"id":"1","email":"a@x.io","name":"Ann","score":"10"}',
      '{"id":"2","email":"b@x.io","name":"Bob","score":"20"}',
      '{"id":"3","email":"c@x.io","name":"Cy","score":"30"}',
      '{"id":"4","email":"d@x.io","name":"Di","score":"40"}',
    ]);
    await change('src_upsert');
    const second = await run(sync.id!);
    assert.deepEqual(second.counts, {
      delete: 0,
      error: 0,
      insert: 1,
      total: 2,
      update: 1,
      upserts: 2,
      warnings: 0,
    });
    assert.deepEqual(await rowsOf(target, 't_upsert'), [
      { id: 1, email: 'a@x.io', name: 'Ann', score: 10 },
      { id: 2, email: 'b@x.io', name: 'Bobby', score: 20 },
      { id: 3, email: 'c@x.io', name: 'Cy', score: 30 },
      { id: 4, email: 'd@x.io', name: 'Di', score: 40 },
      { id: 5, email: 'e@x.io', name: 'Eve', score: 50 },
    ]);
    const unchanged = await run(sync.id!);
    assert.equal(unchanged.counts!.total, 0);
    const resync = await run(sync.id!, true);
    assert.deepEqual(resync.counts, {
      delete: 0,
      error: 0,
      insert: 0,
      total: 4,
      update: 4,
      upserts: 4,
      warnings: 0,
    });
    // The change detection state lives in the target, next to the records: one hash per identity delivered.
    const [state] = await target.query(
      `select count(*)::int as n from public._ferry_model_state_${sync.id!.replaceAll('-', '')}`,
    );
    assert.equal(state.n, 5);
  });

  it('test runs touch nothing; runs over chosen identities send just those', async () => {
    const modelId = await people('src_some');
    await target.query('create table t_some (id int primary key, email text, name text, score int)');
    const sync = await createSync({
      name: 'some',
      mode: 'updateOrCreate',
      target: { connection_id: targetId, object: 'public.t_some' },
      fields: fieldsOf(modelId),
      identity: identityOf(modelId),
    });
    const started = (await sdk.modelSync.start(sync.id!, { test: true })).data!;
    let test = (await sdk.modelSync.executions.get(sync.id!, started.id!)).data!;
    while (!terminal.includes(test.status!)) {
      await new Promise((r) => setTimeout(r, 100));
      test = (await sdk.modelSync.executions.get(sync.id!, started.id!)).data!;
    }
    assert.equal(test.status, 'completed');
    assert.equal(test.type, 'test');
    assert.equal(test.counts!.total, 4);
    assert.equal(
      (await sdk.modelSync.executions.getLogUrls(sync.id!, test.id!, 'records')).data!.urls!.length,
      1,
    );
    assert.deepEqual(await target.query('select id from t_some'), []);

    await run(sync.id!);
    await source.query(`update src_some set score = score + 1`);
    const chosen = (await sdk.modelSync.start(sync.id!, { identities: ['2', '4'] })).data!;
    let some = (await sdk.modelSync.executions.get(sync.id!, chosen.id!)).data!;
    while (!terminal.includes(some.status!)) {
      await new Promise((r) => setTimeout(r, 100));
      some = (await sdk.modelSync.executions.get(sync.id!, chosen.id!)).data!;
    }
    assert.deepEqual([some.counts!.total, some.counts!.update], [2, 2]);
    assert.deepEqual(await target.query('select id, score from t_some order by id'), [
      { id: 1, score: 10 },
      { id: 2, score: 21 },
      { id: 3, score: 30 },
      { id: 4, score: 41 },
    ]);
    // The others are still pending and go with the next full run.
    assert.equal((await run(sync.id!)).counts!.total, 2);
  });

  it('test runs map the records a run would send: repeated and empty identities are warnings', async () => {
    const query = `select * from (values (1, 'a@x.io'), (1, 'again@x.io'), (null, 'none@x.io'), (2, 'b@x.io'))
      as v(id, email)`;
    const modelId = (
      await sdk.models.create({
        body: { name: 'test dups', connection_id: sourceId, configuration: { query } },
      })
    ).data!.id!;
    await target.query('create table t_test_dups (id int, email text)');
    const sync = await createSync({
      name: 'test dups',
      mode: 'updateOrCreate',
      target: { connection_id: targetId, object: 'public.t_test_dups' },
      fields: fieldsOf(modelId, ['email']),
      identity: identityOf(modelId),
    });
    const started = (await sdk.modelSync.start(sync.id!, { test: true })).data!;
    const test = await until(
      async () => (await sdk.modelSync.executions.get(sync.id!, started.id!)).data!,
      (execution) => terminal.includes(execution.status!),
      'the test run',
    );
    const url = (await sdk.modelSync.executions.getLogUrls(sync.id!, test.id!, 'records')).data!.urls![0]!;
    const records = (await (await fetch(`${ferry.url}${url}`)).text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(records, [
      { email: 'a@x.io', id: '1' },
      { email: 'b@x.io', id: '2' },
    ]);
    assert.deepEqual([test.counts!.total, test.counts!.warnings], [2, 2]);
    const real = await run(sync.id!);
    assert.deepEqual([real.counts!.total, real.counts!.warnings], [2, 2]);
  });

  it('a sync edited to write another table sends that table every record', async () => {
    const modelId = await people('src_retarget');
    await target.query(`create table t_retarget_a (id int, email text, name text, score int);
      create table t_retarget_b (id int, email text, name text, score int)`);
    const body = {
      name: 'retarget',
      mode: 'updateOrCreate' as const,
      schedule: { frequency: 'manual' as const },
      target: { connection_id: targetId, object: 'public.t_retarget_a' },
      fields: fieldsOf(modelId),
      identity: identityOf(modelId),
    };
    const sync = await createSync(body);
    assert.equal((await run(sync.id!)).counts!.insert, 4);
    await sdk.modelSync.update(sync.id!, {
      ...body,
      target: { ...body.target, object: 'public.t_retarget_b' },
    });
    const moved = await run(sync.id!);
    assert.deepEqual([moved.status, moved.counts!.insert], ['completed', 4]);
    assert.deepEqual(await rowsOf(target, 't_retarget_b'), await rowsOf(target, 't_retarget_a'));
    // From then on, only what changed.
    await change('src_retarget');
    const next = await run(sync.id!);
    assert.deepEqual([next.counts!.insert, next.counts!.update], [1, 1]);
  });

  it('create inserts new identities only and never touches existing rows', async () => {
    const modelId = await people('src_create');
    await target.query(`create table t_create (id int primary key, email text, name text, score int);
      insert into t_create values (1, 'old@x.io', 'Old', 0)`);
    const sync = await createSync({
      name: 'create',
      mode: 'create',
      target: { connection_id: targetId, object: 'public.t_create' },
      fields: fieldsOf(modelId),
      identity: identityOf(modelId),
    });
    assert.equal((await run(sync.id!)).counts!.insert, 3);
    await change('src_create');
    const second = await run(sync.id!);
    assert.equal(second.counts!.insert, 1);
    assert.deepEqual(await rowsOf(target, 't_create'), [
      { id: 1, email: 'old@x.io', name: 'Old', score: 0 },
      { id: 2, email: 'b@x.io', name: 'Bob', score: 20 },
      { id: 3, email: 'c@x.io', name: 'Cy', score: 30 },
      { id: 4, email: 'd@x.io', name: 'Di', score: 40 },
      { id: 5, email: 'e@x.io', name: 'Eve', score: 50 },
    ]);
  });

  it('update changes existing rows only, with a constant from override_value', async () => {
    const modelId = await people('src_update');
    await target.query(`create table t_update (id int primary key, email text, name text, score int);
      insert into t_update values (1, 'x', 'x', 0), (2, 'x', 'x', 0), (3, 'x', 'x', 0)`);
    const sync = await createSync({
      name: 'update',
      mode: 'update',
      target: { connection_id: targetId, object: 'public.t_update' },
      fields: fieldsOf(modelId, ['id', 'email', 'name']),
      override_fields: [{ override_value: '7', target: 'score' }],
      identity: identityOf(modelId),
    });
    const first = await run(sync.id!);
    assert.equal(first.counts!.update, 3);
    assert.equal(first.counts!.insert, 0);
    await change('src_update');
    const second = await run(sync.id!);
    assert.equal(second.counts!.update, 1);
    assert.deepEqual(await rowsOf(target, 't_update'), [
      { id: 1, email: 'a@x.io', name: 'Ann', score: 7 },
      { id: 2, email: 'b@x.io', name: 'Bobby', score: 7 },
      { id: 3, email: 'c@x.io', name: 'Cy', score: 7 },
    ]);
  });

  it('append adds new and changed records and never duplicates on a rerun', async () => {
    const modelId = await people('src_append');
    await target.query('create table t_append (seq serial, id int, email text, name text, score int)');
    const sync = await createSync({
      name: 'append',
      mode: 'append',
      target: { connection_id: targetId, object: 'public.t_append' },
      fields: fieldsOf(modelId),
      identity: identityOf(modelId),
    });
    assert.equal((await run(sync.id!)).counts!.insert, 4);
    await change('src_append');
    assert.equal((await run(sync.id!)).counts!.insert, 2);
    assert.equal((await run(sync.id!)).counts!.insert, 0);
    assert.deepEqual(await rowsOf(target, 't_append', 'seq'), [
      { id: 1, email: 'a@x.io', name: 'Ann', score: 10 },
      { id: 2, email: 'b@x.io', name: 'Bob', score: 20 },
      { id: 3, email: 'c@x.io', name: 'Cy', score: 30 },
      { id: 4, email: 'd@x.io', name: 'Di', score: 40 },
      { id: 2, email: 'b@x.io', name: 'Bobby', score: 20 },
      { id: 5, email: 'e@x.io', name: 'Eve', score: 50 },
    ]);
  });

  it('replace makes the target hold exactly the model', async () => {
    const modelId = await people('src_replace');
    await target.query(`create table t_replace (id int primary key, email text, name text, score int);
      insert into t_replace values (99, 'stray@x.io', 'Stray', 0)`);
    const sync = await createSync({
      name: 'replace',
      mode: 'replace',
      target: { connection_id: targetId, object: 'public.t_replace' },
      fields: fieldsOf(modelId),
      identity: identityOf(modelId),
    });
    const first = await run(sync.id!);
    assert.equal(first.counts!.delete, 1);
    await change('src_replace');
    const second = await run(sync.id!);
    assert.deepEqual(second.counts, {
      delete: 1,
      error: 0,
      insert: 1,
      total: 2,
      update: 1,
      upserts: 2,
      warnings: 0,
    });
    assert.deepEqual(await rowsOf(target, 't_replace'), [
      { id: 1, email: 'a@x.io', name: 'Ann', score: 10 },
      { id: 2, email: 'b@x.io', name: 'Bobby', score: 20 },
      { id: 4, email: 'd@x.io', name: 'Di', score: 40 },
      { id: 5, email: 'e@x.io', name: 'Eve', score: 50 },
    ]);
  });

  it('after a first run, compares by hash in the databases and reads only the rows that differ', async () => {
    // Every type whose text the source hash must print exactly as the rows staged in the target.
    const rowsSql = (
      from: number,
      to: number,
    ) => `select g, timestamptz '2024-02-29 23:59:59.123456+00' + g * interval '1 hour',
        12345678901234567890.0123456789 / g, g % 2 = 0, jsonb_build_object('k', g, 'ship', '🚢'),
        decode('00ff' || lpad(to_hex(g), 2, '0'), 'hex'),
        case g % 4 when 0 then null when 1 then '' else E'tab\\there "q" back\\\\slash, (paren) ü' || g end,
        date '2024-01-01' + g, g / 3.0, array[g, null, g + 1], g * interval '90 minutes'
      from generate_series(${from}, ${to}) g`;
    const columns = `(id int primary key, at timestamptz, amount numeric(38,10), ok boolean, doc jsonb, raw bytea,
      note text, day date, ratio double precision, tags int[], span interval)`;
    await source.query(`create table src_hashed ${columns}; insert into src_hashed ${rowsSql(1, 40)}`);
    await target.query(`create table t_hashed ${columns}`);
    const names = ['id', 'at', 'amount', 'ok', 'doc', 'raw', 'note', 'day', 'ratio', 'tags', 'span'];
    // Identity 7 twice: a duplicate, reported each run and sent once; one record without identity.
    const model = (
      await sdk.models.create({
        body: {
          name: 'hashed',
          connection_id: sourceId,
          configuration: {
            query: `select * from src_hashed union all select * from src_hashed where id = 7
              union all select null, at, amount, ok, doc, raw, note, day, ratio, tags, span from src_hashed where id = 9`,
          },
          identifier: 'id',
        },
      })
    ).data!;
    const sync = await createSync({
      name: 'hashed',
      mode: 'replace',
      target: { connection_id: targetId, object: 'public.t_hashed' },
      fields: fieldsOf(model.id!, names),
      identity: identityOf(model.id!),
    });
    const messages = async (executionId: string) =>
      (
        await http(ferry.url, 'GET', `/api/syncs/${sync.id}/executions/${executionId}/consolelog?limit=50`, {
          key: ferry.adminKey,
        })
      ).body.data.entries.map((e: { message: string }) => e.message);
    const same = async () =>
      assert.deepEqual(
        await target.query('select t::text as row from t_hashed t order by id'),
        await source.query('select s::text as row from src_hashed s order by id'),
      );

    const first = await run(sync.id!);
    assert.deepEqual(
      [first.status, first.counts!.insert, first.counts!.warnings, first.counts!.error],
      ['completed', 40, 2, 0],
    );
    assert.ok(!(await messages(first.id!)).some((m: string) => m.startsWith('compared')));
    await same();

    const unchanged = await run(sync.id!);
    assert.deepEqual([unchanged.counts!.total, unchanged.counts!.warnings], [0, 2]);
    assert.ok(
      (await messages(unchanged.id!)).includes(
        'compared 42 row(s) by hash in the source and the target: 2 identities to send',
      ),
    );

    await source.query(`update src_hashed set note = 'changed' where id = 3; delete from src_hashed where id = 5;
      insert into src_hashed ${rowsSql(41, 41)}`);
    const changed = await run(sync.id!);
    assert.deepEqual(
      [changed.counts!.insert, changed.counts!.update, changed.counts!.delete, changed.counts!.warnings],
      [1, 1, 1, 2],
    );
    const log = await messages(changed.id!);
    assert.ok(
      log.includes('compared 42 row(s) by hash in the source and the target: 4 identities to send'),
      log.join('\n'),
    );
    assert.ok(
      log.some((m: string) => m.startsWith('read 42 row(s), 40 identities')),
      log.join('\n'),
    );
    await same();
  });

  it('tracking columns: later runs read only the rows whose tracking value reached the last mark', async (t) => {
    await source.query(`create table src_tracked (id int primary key, name text, score int, updated_at timestamptz);
      insert into src_tracked values (1, 'Ann', 10, '2026-01-01 00:00:01.000001+00'),
        (2, 'Bob', 20, '2026-01-01 00:00:02.000002+00'), (3, 'Cy', 30, '2026-01-01 00:00:03.000003+00'),
        (4, 'Di', 40, null)`);
    await target.query('create table t_tracked (id int primary key, name text, score int)');
    const refused = await failure(() =>
      sdk.models.create({
        body: {
          name: 'tracked',
          connection_id: sourceId,
          configuration: { table: 'public.src_tracked' },
          identifier: 'id',
          tracking_columns: ['changed_at'],
        },
      }),
    );
    assert.equal(refused.status, 422);
    assert.match(JSON.stringify(refused.body), /tracking_columns: the model has no field \\"changed_at\\"/);
    const model = (
      await sdk.models.create({
        body: {
          name: 'tracked',
          connection_id: sourceId,
          configuration: { table: 'public.src_tracked' },
          identifier: 'id',
          tracking_columns: ['updated_at'],
        },
      })
    ).data!;
    assert.deepEqual(model.tracking_columns, ['updated_at']);
    const body = {
      name: 'tracked',
      mode: 'updateOrCreate',
      schedule: { frequency: 'manual' },
      target: { connection_id: targetId, object: 'public.t_tracked' },
      fields: fieldsOf(model.id!, ['id', 'name', 'score']),
      identity: identityOf(model.id!),
    };
    const sync = await createSync(body);
    const rows = () => target.query('select id, name, score from t_tracked order by id');
    const messages = async (executionId: string, syncId = sync.id!) =>
      (
        await http(ferry.url, 'GET', `/api/syncs/${syncId}/executions/${executionId}/consolelog?limit=50`, {
          key: ferry.adminKey,
        })
      ).body.data.entries.map((e: { message: string }) => e.message);

    assert.equal((await run(sync.id!)).counts!.insert, 4);
    // Bob changes without his tracking value moving: not read. Cy's moves; Eve arrives; Di gets one.
    await source.query(`update src_tracked set name = 'Bobby' where id = 2;
      update src_tracked set score = 31, updated_at = '2026-01-02 00:00:00+00' where id = 3;
      update src_tracked set score = 41, updated_at = '2026-01-01 00:00:00+00' where id = 4;
      insert into src_tracked values (5, 'Eve', 50, '2026-01-03 00:00:00+00')`);
    const second = await run(sync.id!);
    assert.deepEqual([second.status, second.counts!.insert, second.counts!.update], ['completed', 1, 1]);
    const secondLog = await messages(second.id!);
    assert.ok(
      secondLog.includes(
        'tracking columns: reading the rows with updated_at ≥ 2026-01-01 00:00:03.000003+00',
      ),
    );
    // A tracked run does not count the identities the target knows, which a full run's summary names.
    assert.ok(
      secondLog.includes(
        'read 2 row(s), 2 identities; sent 2: 1 inserted, 1 updated, 0 deleted, 0 rejected, 0 warning(s)',
      ),
      secondLog.join('\n'),
    );
    // Di's new value lies below the mark: rows are tracked by their value, not by when they changed.
    assert.deepEqual(await rows(), [
      { id: 1, name: 'Ann', score: 10 },
      { id: 2, name: 'Bob', score: 20 },
      { id: 3, name: 'Cy', score: 31 },
      { id: 4, name: 'Di', score: 40 },
      { id: 5, name: 'Eve', score: 50 },
    ]);
    // The row at the mark is read again and, unchanged, not sent.
    assert.equal((await run(sync.id!)).counts!.total, 0);
    // Editing the sync drops the marks: the next run compares the whole model.
    await sdk.modelSync.update(sync.id!, body as any);
    const edited = await run(sync.id!);
    assert.deepEqual([edited.counts!.update, edited.counts!.total], [2, 2]);
    assert.deepEqual(await target.query('select t::text as row from t_tracked t order by id'), [
      { row: '(1,Ann,10)' },
      { row: '(2,Bobby,20)' },
      { row: '(3,Cy,31)' },
      { row: '(4,Di,41)' },
      { row: '(5,Eve,50)' },
    ]);
    // A resync sends everything and takes marks again.
    await source.query(`update src_tracked set score = 0 where id = 1`);
    const resync = await run(sync.id!, true);
    assert.equal(resync.counts!.total, 5);
    assert.equal((await run(sync.id!)).counts!.total, 0);

    // A column without an order has no marks: those runs compare the whole model.
    const unordered = (
      await sdk.models.create({
        body: {
          name: 'unordered',
          connection_id: sourceId,
          configuration: { query: 'select id, name, score, score > 20 as flag from src_tracked' },
          identifier: 'id',
          tracking_columns: ['flag'],
        },
      })
    ).data!;
    const flagged = await createSync({
      ...body,
      name: 'unordered',
      fields: fieldsOf(unordered.id!, ['id', 'name', 'score']),
      identity: identityOf(unordered.id!),
    });
    assert.equal((await run(flagged.id!)).counts!.total, 5);
    const compared = await run(flagged.id!);
    assert.deepEqual([compared.status, compared.counts!.total], ['completed', 0]);
    assert.ok(
      (await messages(compared.id!, flagged.id!)).some((m: string) =>
        m.startsWith(
          "could not take the tracking columns' greatest values (function max(boolean) does not exist",
        ),
      ),
    );

    // An HTTP target, whose hashes Ferry keeps, reads just the tracked rows too.
    const tracker = httpTarget();
    t.after(() => tracker.close());
    const trackerId = (
      await sdk.connections.create({
        name: 'tracked-api',
        type: 'http',
        configuration: { url: await tracker.listen() },
      })
    ).data!.id!;
    const toApi = await createSync({
      ...body,
      name: 'tracked-http',
      target: { connection_id: trackerId, object: 'records' },
    });
    let seen = 0;
    const posted = () => {
      const ids = tracker.batches.slice(seen).flatMap((b) => b.body.records.map((r: any) => Number(r.id)));
      seen = tracker.batches.length;
      return ids.sort();
    };
    assert.equal((await run(toApi.id!)).counts!.insert, 5);
    assert.deepEqual(posted(), [1, 2, 3, 4, 5]);
    await source.query(`update src_tracked set name = 'Bo' where id = 2;
      update src_tracked set score = 60, updated_at = '2026-01-04 00:00:00+00' where id = 5`);
    const tracked = await run(toApi.id!);
    assert.deepEqual([tracked.status, tracked.counts!.total], ['completed', 1]);
    assert.deepEqual(posted(), [5]);
  });

  it('tracking columns of a MariaDB model: later runs read only the rows that reached the mark', async () => {
    await mysql.query(
      'create table src_tracked (id int primary key, name varchar(20), updated_at datetime(6))',
    );
    await mysql.query(`insert into src_tracked values (1, 'Ann', '2026-01-01 00:00:01.000001'),
      (2, 'Bob', '2026-01-01 00:00:02.000002')`);
    await target.query('create table t_tracked_my (id int primary key, name text)');
    const model = (
      await sdk.models.create({
        body: {
          name: 'tracked-maria',
          connection_id: mysqlId,
          configuration: { query: 'select id, name, updated_at from src_tracked' },
          identifier: 'id',
          tracking_columns: ['updated_at'],
        },
      })
    ).data!;
    const sync = await createSync({
      name: 'tracked-maria',
      mode: 'updateOrCreate',
      target: { connection_id: targetId, object: 'public.t_tracked_my' },
      fields: fieldsOf(model.id!, ['id', 'name']),
      identity: identityOf(model.id!),
    });
    assert.equal((await run(sync.id!)).counts!.insert, 2);
    await mysql.query(`update src_tracked set name = 'Ann?' where id = 1`);
    await mysql.query(
      `update src_tracked set name = 'Bobby', updated_at = '2026-01-02 00:00:00' where id = 2`,
    );
    const second = await run(sync.id!);
    assert.deepEqual([second.status, second.counts!.update, second.counts!.total], ['completed', 1, 1]);
    const log = (
      await http(ferry.url, 'GET', `/api/syncs/${sync.id}/executions/${second.id}/consolelog?limit=50`, {
        key: ferry.adminKey,
      })
    ).body.data.entries.map((e: { message: string }) => e.message);
    assert.ok(
      log.includes('tracking columns: reading the rows with updated_at ≥ 2026-01-01 00:00:02.000002'),
      log.join('\n'),
    );
    assert.deepEqual(await target.query('select id, name from t_tracked_my order by id'), [
      { id: 1, name: 'Ann' },
      { id: 2, name: 'Bobby' },
    ]);
  });

  it('remove deletes the rows whose identity is in the model', async () => {
    const modelId = await people('src_remove');
    await target.query(`create table t_remove (id int primary key, email text, name text, score int);
      insert into t_remove select g, 'x', 'x', g from generate_series(1, 6) g`);
    const sync = await createSync({
      name: 'remove',
      mode: 'remove',
      target: { connection_id: targetId, object: 'public.t_remove' },
      fields: fieldsOf(modelId, ['id']),
      identity: identityOf(modelId),
    });
    assert.equal((await run(sync.id!)).counts!.delete, 4);
    await change('src_remove');
    assert.equal((await run(sync.id!)).counts!.delete, 1);
    assert.deepEqual(await target.query('select id from t_remove order by id'), [{ id: 6 }]);
  });

  it('snapshot replaces the whole table with the model on every run', async () => {
    const modelId = await people('src_snapshot');
    await target.query(`create table t_snapshot (id int, email text, name text, score int);
      insert into t_snapshot values (99, 'stray@x.io', 'Stray', 0)`);
    const sync = await createSync({
      name: 'snapshot',
      mode: 'snapshot',
      target: { connection_id: targetId, object: 'public.t_snapshot' },
      fields: fieldsOf(modelId),
    });
    const first = await run(sync.id!);
    assert.deepEqual([first.counts!.insert, first.counts!.delete], [4, 1]);
    await change('src_snapshot');
    const second = await run(sync.id!);
    assert.deepEqual([second.counts!.insert, second.counts!.delete], [4, 4]);
    assert.deepEqual(await rowsOf(target, 't_snapshot'), [
      { id: 1, email: 'a@x.io', name: 'Ann', score: 10 },
      { id: 2, email: 'b@x.io', name: 'Bobby', score: 20 },
      { id: 4, email: 'd@x.io', name: 'Di', score: 40 },
      { id: 5, email: 'e@x.io', name: 'Eve', score: 50 },
    ]);
  });

  it('writes MariaDB tables: updateOrCreate and replace over two runs', async () => {
    const modelId = await people('src_maria');
    await mysql.query(
      'create table m_upsert (id int primary key, email varchar(50), name varchar(50), score int)',
    );
    await mysql.query(
      'create table m_replace (id int primary key, email varchar(50), name varchar(50), score int)',
    );
    await mysql.query(`insert into m_replace values (99, 'stray@x.io', 'Stray', 0)`);
    const upsert = await createSync({
      name: 'maria upsert',
      mode: 'updateOrCreate',
      target: { connection_id: mysqlId, object: 'm_upsert' },
      fields: fieldsOf(modelId),
      identity: identityOf(modelId),
    });
    const replace = await createSync({
      name: 'maria replace',
      mode: 'replace',
      target: { connection_id: mysqlId, object: 'm_replace' },
      fields: fieldsOf(modelId),
      identity: identityOf(modelId),
    });
    assert.equal((await run(upsert.id!)).counts!.insert, 4);
    assert.equal((await run(replace.id!)).counts!.delete, 1);
    await change('src_maria');
    const second = await run(upsert.id!);
    assert.deepEqual([second.counts!.insert, second.counts!.update, second.counts!.total], [1, 1, 2]);
    await run(replace.id!);
    const expected = [
      { id: 1, email: 'a@x.io', name: 'Ann', score: 10 },
      { id: 2, email: 'b@x.io', name: 'Bobby', score: 20 },
      { id: 4, email: 'd@x.io', name: 'Di', score: 40 },
      { id: 5, email: 'e@x.io', name: 'Eve', score: 50 },
    ];
    assert.deepEqual(await rowsOf(mysql, 'm_replace'), expected);
    assert.deepEqual(await rowsOf(mysql, 'm_upsert'), [
      ...expected.slice(0, 2),
      { id: 3, email: 'c@x.io', name: 'Cy', score: 30 },
      ...expected.slice(2),
    ]);
  });

  it('syncs a SQLite query model into PostgreSQL', async () => {
    const dir = tempDir();
    try {
      const file = path.join(dir.path, 'shop.db');
      const lite = new DatabaseSync(file);
      lite.exec(`create table items (id integer primary key, title text, price real);
        insert into items values (1, 'pen', 1.5), (2, 'ink', null), (3, 'ünïcødé', 3)`);
      lite.close();
      const connectionId = (
        await sdk.connections.create({ name: 'lite', type: 'sqlite', configuration: { path: file } })
      ).data!.id!;
      const modelId = (
        await sdk.models.create({
          body: {
            name: 'items',
            connection_id: connectionId,
            configuration: { query: 'select id, title, price from items' },
          },
        })
      ).data!.id!;
      await target.query('create table t_items (id int primary key, title text, price numeric)');
      const sync = await createSync({
        name: 'items',
        mode: 'updateOrCreate',
        target: { connection_id: targetId, object: 'public.t_items' },
        fields: fieldsOf(modelId, ['id', 'title', 'price']),
        identity: identityOf(modelId),
      });
      assert.equal((await run(sync.id!)).counts!.insert, 3);
      assert.deepEqual(await target.query('select id, title, price::text from t_items order by id'), [
        { id: 1, title: 'pen', price: '1.5' },
        { id: 2, title: 'ink', price: null },
        { id: 3, title: 'ünïcødé', price: '3' },
      ]);
    } finally {
      dir.cleanup();
    }
  });

  it('MariaDB rejects values that do not fit; the rest land', async () => {
    const modelId = await people('src_maria_reject');
    await mysql.query('create table m_short (id int primary key, name varchar(2) not null)');
    const sync = await createSync({
      name: 'maria short',
      mode: 'updateOrCreate',
      target: { connection_id: mysqlId, object: 'm_short' },
      fields: fieldsOf(modelId, ['id', 'name']),
      identity: identityOf(modelId),
    });
    const done = await run(sync.id!);
    assert.equal(done.status, 'completed');
    assert.deepEqual([done.counts!.insert, done.counts!.error], [2, 2]);
    assert.match(done.errors![0]!, /too long/i);
    assert.deepEqual(await mysql.query('select id, name from m_short order by id'), [
      { id: 3, name: 'Cy' },
      { id: 4, name: 'Di' },
    ]);
  });

  it('rejected records go to the errors log with the reason; duplicates are warnings, sent once', async () => {
    await source.query(`create table src_faults (id int, email text, score int);
      insert into src_faults values (1, 'a', 1), (2, 'b', -2), (3, 'c', 3), (3, 'c-dup', 3), (4, 'd', -4), (5, 'e', 5)`);
    const modelId = (
      await sdk.models.create({
        body: { name: 'faults', connection_id: sourceId, configuration: { table: 'public.src_faults' } },
      })
    ).data!.id!;
    await target.query(
      'create table t_faults (id int primary key, email text, score int check (score >= 0))',
    );
    const sync = await createSync({
      name: 'faults',
      mode: 'updateOrCreate',
      target: { connection_id: targetId, object: 'public.t_faults' },
      fields: fieldsOf(modelId, ['id', 'email', 'score']),
      identity: identityOf(modelId),
    });
    const done = await run(sync.id!);
    assert.equal(done.status, 'completed');
    assert.deepEqual(done.counts, {
      delete: 0,
      error: 2,
      insert: 3,
      total: 5,
      update: 0,
      upserts: 3,
      warnings: 1,
    });
    assert.match(done.errors![0]!, /t_faults_score_check/);
    assert.deepEqual(await target.query('select id from t_faults order by id'), [
      { id: 1 },
      { id: 3 },
      { id: 5 },
    ]);

    const urls = (await sdk.modelSync.executions.getLogUrls(sync.id!, done.id!, 'errors')).data!;
    assert.equal(urls.urls!.length, 1);
    const download = await fetch(`${ferry.url}${urls.urls![0]}`);
    const errors = (await download.text())
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    assert.deepEqual(
      errors.map((e) => e.record.id),
      ['2', '4'],
    );
    assert.match(errors[0].error, /violates check constraint/);
    const warnings = await http(ferry.url, 'GET', `/api/syncs/${sync.id}/executions/${done.id}/warnings`, {
      key: ferry.adminKey,
    });
    const filename = decodeURIComponent(warnings.body.data.urls[0].split('?')[0].split('/').at(-1));
    const file = await fetch(`${ferry.url}/api/syncs/${sync.id}/executions/${done.id}/warnings/${filename}`, {
      headers: { authorization: `Bearer ${ferry.adminKey}` },
    });
    assert.equal(file.status, 200);
    assert.match(await file.text(), /duplicate identity 3/);
    const inserts = (await sdk.modelSync.executions.getLogUrls(sync.id!, done.id!, 'inserts')).data!;
    assert.equal(inserts.urls!.length, 1);
    const wrongType = await http(
      ferry.url,
      'GET',
      `/api/syncs/${sync.id}/executions/${done.id}/updates/${filename}`,
      {
        key: ferry.adminKey,
      },
    );
    assert.equal(wrongType.status, 404);

    const consoleLog = await http(
      ferry.url,
      'GET',
      `/api/syncs/${sync.id}/executions/${done.id}/consolelog?limit=2`,
      {
        key: ferry.adminKey,
      },
    );
    assert.equal(consoleLog.status, 200);
    assert.equal(consoleLog.body.data.entries.length, 2);
    assert.match(consoleLog.body.data.entries[0].message, /execution completed with errors/);
    const after = await http(
      ferry.url,
      'GET',
      `/api/syncs/${sync.id}/executions/${done.id}/consolelog?after=${consoleLog.body.data.next_cursor}`,
      { key: ferry.adminKey },
    );
    assert.deepEqual(after.body.data.entries, []);

    // The rejected records are sent again next run; the others are unchanged.
    await source.query('update src_faults set score = 2 where id = 2');
    const retry = await run(sync.id!);
    assert.deepEqual([retry.counts!.total, retry.counts!.insert, retry.counts!.error], [2, 1, 1]);
  });

  it('posts batches to an HTTP target with headers, retries a 500, and reads per-record errors', async () => {
    const modelId = await people('src_http');
    const sync = await createSync({
      name: 'http',
      mode: 'updateOrCreate',
      target: { connection_id: httpId, object: 'records' },
      fields: fieldsOf(modelId, ['id', 'email']),
      identity: identityOf(modelId),
    });
    api.setPlan((body, n) => {
      if (n === 0) return { status: 500, body: { error: 'try again' } };
      const refused = body.records.findIndex((r: any) => r.email === 'c@x.io');
      return refused === -1
        ? { status: 200 }
        : { status: 200, body: { errors: [{ index: refused, message: 'email is blocked' }] } };
    });
    const done = await run(sync.id!);
    assert.equal(done.status, 'completed', JSON.stringify(done));
    assert.deepEqual([done.counts!.total, done.counts!.insert, done.counts!.error], [4, 3, 1]);
    assert.deepEqual(done.errors, ['email is blocked']);
    assert.equal(api.batches.length, 3); // 500, then two batches of two
    assert.deepEqual(api.batches[0]!.body, api.batches[1]!.body);
    assert.equal(api.batches[1]!.headers.authorization, 'Bearer s3cret');
    assert.equal(api.batches[1]!.headers['x-team'], 'data');
    assert.deepEqual(api.batches[1]!.body.records, [
      { id: '1', email: 'a@x.io' },
      { id: '2', email: 'b@x.io' },
    ]);
    // The auth header is a secret: stored encrypted and redacted on the way out.
    const connection = (await sdk.connections.get(httpId)).data!;
    assert.equal(connection.configuration!.auth_header, '********');
    api.setPlan(() => ({ status: 200 }));
    const again = await run(sync.id!);
    assert.deepEqual([again.counts!.total, again.counts!.insert], [1, 1]);
    assert.deepEqual(api.batches.at(-1)!.body.records, [{ id: '3', email: 'c@x.io' }]);
    // Refused credentials fail the run; nothing is recorded as delivered, so the next run sends it.
    await source.query(`update src_http set email = 'a2@x.io' where id = 1`);
    api.setPlan(() => ({ status: 401, body: { error: 'bad token' } }));
    const refused = await run(sync.id!);
    assert.equal(refused.status, 'failed');
    assert.match(refused.errors![0]!, /HTTP 401/);
    const refusedLog = await http(
      ferry.url,
      'GET',
      `/api/syncs/${sync.id}/executions/${refused.id}/consolelog?limit=50`,
      { key: ferry.adminKey },
    );
    const ends = refusedLog.body.data.entries.filter((e: any) => /^execution failed/.test(e.message));
    assert.equal(ends.length, 1, JSON.stringify(refusedLog.body)); // the reason is logged once
    assert.equal(ends[0].level, 'error');
    assert.match(ends[0].message, /HTTP 401/);
    api.setPlan(() => ({ status: 200 }));
    const after401 = await run(sync.id!);
    assert.deepEqual(api.batches.at(-1)!.body.records, [{ id: '1', email: 'a2@x.io' }]);
    assert.equal(after401.counts!.insert, 1);
  });

  it('create mode into an HTTP target sends each identity once, as an insert', async () => {
    const modelId = await people('src_http_create');
    const sync = await createSync({
      name: 'http create',
      mode: 'create',
      target: { connection_id: httpId, object: 'records' },
      fields: fieldsOf(modelId, ['id', 'name']),
      identity: identityOf(modelId),
    });
    api.setPlan(() => ({ status: 200 }));
    const sent = api.batches.length;
    const first = await run(sync.id!);
    assert.deepEqual([first.counts!.total, first.counts!.insert], [4, 4]);
    assert.ok(api.batches.slice(sent).every((b) => b.body.operation === 'insert'));
    // Bob was created before: his change is not sent; Eve is new.
    await change('src_http_create');
    const second = await run(sync.id!);
    assert.equal(second.status, 'completed', JSON.stringify(second));
    assert.deepEqual(
      api.batches.slice(sent + 2).flatMap((b) => b.body.records),
      [{ id: '5', name: 'Eve' }],
    );
    assert.deepEqual([second.counts!.insert, second.counts!.update], [1, 0]);
    // Nor on the run after: Bob's record is not compared again.
    const third = await run(sync.id!);
    assert.equal(third.counts!.total, 0);
    assert.equal(api.batches.length, sent + 3);
  });

  it('cancels a running execution', async () => {
    const modelId = (
      await sdk.models.create({
        body: {
          name: 'slow',
          connection_id: sourceId,
          configuration: {
            query: 'select g as id, pg_sleep(0.01)::text as nap from generate_series(1, 100000) g',
          },
        },
      })
    ).data!.id!;
    await target.query('create table t_slow (id int, nap text)');
    const sync = await createSync({
      name: 'slow',
      mode: 'append',
      target: { connection_id: targetId, object: 'public.t_slow' },
      fields: fieldsOf(modelId, ['id', 'nap']),
    });
    const started = (await sdk.modelSync.start(sync.id!)).data!;
    // A second start while it runs returns the same execution.
    assert.equal((await sdk.modelSync.start(sync.id!)).data!.id, started.id);
    await until(
      async () => (await sdk.modelSync.getStatus(sync.id!)).data!,
      (status) => status.current_execution?.status === 'running',
      'the run to start',
    );
    const canceling = await http(ferry.url, 'POST', `/api/syncs/${sync.id}/executions/${started.id}/cancel`, {
      key: ferry.adminKey,
    });
    assert.equal(canceling.status, 200);
    let status = '';
    for (let i = 0; i < 300 && status !== 'canceled'; i++) {
      status = (await sdk.modelSync.executions.get(sync.id!, started.id!)).data!.status!;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(status, 'canceled');
    assert.equal((await failure(() => sdk.modelSync.cancel(sync.id!))).status, 409);
  });

  it('deleting a sync stops its running execution', async () => {
    const query = 'select g as id, pg_sleep(0.01)::text as nap_deleted from generate_series(1, 100000) g';
    const modelId = (
      await sdk.models.create({
        body: { name: 'slow deleted', connection_id: sourceId, configuration: { query } },
      })
    ).data!.id!;
    await target.query('create table t_slow_deleted (id int, nap_deleted text)');
    const sync = await createSync({
      name: 'slow deleted',
      mode: 'append',
      target: { connection_id: targetId, object: 'public.t_slow_deleted' },
      fields: fieldsOf(modelId, ['id', 'nap_deleted']),
    });
    await sdk.modelSync.start(sync.id!);
    const reading = async () =>
      Number(
        (
          await source.query(
            `select count(*) as n from pg_stat_activity where datname = current_database()
               and query like '%nap_deleted%' and pid <> pg_backend_pid()`,
          )
        )[0].n,
      );
    await until(reading, (n) => n > 0, 'the run to read the model');
    await sdk.modelSync.remove(sync.id!);
    // Nothing goes on reading or writing in the name of a deleted sync.
    await until(reading, (n) => n === 0, 'the run to stop reading');
    const landed = Number((await target.query('select count(*) as n from t_slow_deleted'))[0].n);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(Number((await target.query('select count(*) as n from t_slow_deleted'))[0].n), landed);
    await sdk.models.remove(modelId);
  });

  it('manages sync configuration: list filters, pagination, get, update, activate, status, delete', async () => {
    const modelId = await people('src_config');
    await target.query('create table t_config (id int primary key, email text, name text, score int)');
    const base = {
      target: { connection_id: targetId, object: 'public.t_config' },
      fields: fieldsOf(modelId),
      identity: identityOf(modelId),
    };
    const a = await createSync({
      ...base,
      name: 'cfg a',
      mode: 'updateOrCreate',
      schedule: { frequency: 'daily', hour: '3', minute: '30' },
    });
    const b = await createSync({ ...base, name: 'cfg b', mode: 'create', active: false });
    assert.deepEqual(a.model_ids, [modelId]);
    assert.equal(a.identity!.target, 'id');

    const byMode = (await sdk.modelSync.list({ mode: 'create' })).data!;
    assert.ok(byMode.some((s) => s.id === b.id));
    assert.ok(byMode.every((s) => s.mode === 'create'));
    const paused = (await sdk.modelSync.list({ active: false })).data!;
    assert.ok(paused.some((s) => s.id === b.id) && !paused.some((s) => s.id === a.id));
    const byTarget = (await sdk.modelSync.list({ target_connection_id: mysqlId })).data!;
    assert.ok(byTarget.every((s) => s.target!.connection_id === mysqlId));

    const seen = new Set<string>();
    let token: string | undefined;
    do {
      const page = await http(ferry.url, 'GET', `/api/syncs?limit=2${token ? `&page_token=${token}` : ''}`, {
        key: ferry.adminKey,
      });
      assert.equal(page.status, 200);
      assert.ok(page.body.data.length <= 2);
      for (const s of page.body.data) {
        assert.ok(!seen.has(s.id), 'a sync appears on two pages');
        seen.add(s.id);
      }
      token = page.body.pagination.next_page_token;
    } while (token);
    assert.ok(seen.has(a.id!) && seen.has(b.id!));

    const updated = (
      await sdk.modelSync.update(a.id!, {
        ...base,
        name: 'cfg a2',
        mode: 'update',
        schedule: { frequency: 'manual' },
        filters: [{ field: { model_id: modelId, field: 'score' }, function: 'GreaterThan', value: 15 }],
      } as any)
    ).data!;
    assert.equal(updated.name, 'cfg a2');
    assert.equal(updated.mode, 'update');
    assert.equal((await sdk.modelSync.get(a.id!)).data!.filters!.length, 1);

    const activated = (await sdk.modelSync.activate(b.id!, { active: true })).data!;
    assert.equal(activated.active, true);
    const schedules = (await sdk.modelSync.getScheduleOptions()).data!;
    assert.ok(schedules.schedule_options!.some((o) => o.frequency === 'daily'));

    const daily = await createSync({
      ...base,
      name: 'cfg daily',
      mode: 'updateOrCreate',
      schedule: { frequency: 'daily', hour: '3', minute: '30' },
    });
    const status = (await sdk.modelSync.getStatus(daily.id!)).data!;
    assert.match(status.next_execution_time!, /T03:30:00/);

    // Filters apply: only scores above 15 are written.
    await target.query(
      'insert into t_config values (1, null, null, null), (2, null, null, null), (3, null, null, null)',
    );
    const filtered = await run(a.id!);
    assert.equal(filtered.counts!.update, 2);
    const executions = (await sdk.modelSync.executions.list(a.id!)).data!;
    assert.equal(executions[0]!.id, filtered.id);

    await sdk.modelSync.remove(b.id!);
    assert.equal((await failure(() => sdk.modelSync.get(b.id!))).status, 404);
    assert.equal((await failure(() => sdk.models.remove(modelId))).status, 409);
  });

  it('documents every model and model sync route in the OpenAPI spec', async () => {
    const spec = (await http(ferry.url, 'GET', '/openapi.json')).body;
    for (const route of [
      '/api/models',
      '/api/models/{id}/sample',
      '/api/model-preview',
      '/api/connections/{id}/modelsync/source/fields',
      '/api/connections/{id}/modelsync/target/fields',
      '/api/connections/{id}/modelsync/targetobjects',
      '/api/syncs',
      '/api/syncs/schedules',
      '/api/syncs/{id}/status',
      '/api/syncs/{syncId}/executions/{id}/consolelog',
      '/api/syncs/{syncId}/executions/{id}/{type}/{filename}',
    ]) {
      assert.ok(spec.paths[route], `${route} is documented`);
    }
  });

  it('describes targets: objects, fields and modes', async () => {
    await target.query('create table t_describe (id int primary key, label text not null)');
    const objects = (await sdk.modelSync.targets.list(targetId)).data!;
    assert.ok(objects.some((o) => o.id === 'public.t_describe'));
    const fields = (await sdk.modelSync.targets.getTargetFields(targetId, { target: 'public.t_describe' }))
      .data!;
    assert.deepEqual(
      fields.fields!.map((f) => [f.id, f.required]),
      [
        ['id', true],
        ['label', true],
      ],
    );
    assert.ok(fields.modes!.some((m) => m.mode === 'updateOrCreate'));
    const meta = (await sdk.modelSync.targets.getTarget(targetId)).data!;
    assert.ok((meta.items!.object!.items as any[]).some((i) => i.value === 'public.t_describe'));
    const httpObjects = (await sdk.modelSync.targets.list(httpId)).data!;
    assert.deepEqual(
      httpObjects.map((o) => o.id),
      ['records'],
    );
    const missing = await failure(() =>
      sdk.modelSync.targets.getTargetFields(targetId, { target: 'public.nope' }),
    );
    assert.equal(missing.status, 422);
  });

  it('refuses bad sync configurations with a 4xx in the Polytomic envelope, creating nothing', async () => {
    const modelId = await people('src_bad');
    await target.query('create table t_bad (id int primary key, email text)');
    const good = {
      name: 'bad',
      mode: 'updateOrCreate',
      schedule: { frequency: 'manual' },
      target: { connection_id: targetId, object: 'public.t_bad' },
      fields: fieldsOf(modelId, ['id', 'email']),
      identity: identityOf(modelId),
    };
    const count = async () =>
      (await http(ferry.url, 'GET', '/api/syncs', { key: ferry.adminKey })).body.data.length;
    const before = await count();
    const post = (body: unknown) => http(ferry.url, 'POST', '/api/syncs', { key: ferry.adminKey, body });
    const cases: [unknown, number, string][] = [
      [
        {
          ...good,
          fields: [
            { source: { model_id: '00000000-0000-4000-8000-000000000000', field: 'id' }, target: 'id' },
          ],
          identity: undefined,
        },
        422,
        'fields.0.source.model_id',
      ],
      [{ ...good, target: { connection_id: targetId, object: 'public.nope' } }, 422, 'target.object'],
      [
        { ...good, fields: [{ source: { model_id: modelId, field: 'id' }, target: 'nope' }] },
        422,
        'fields.0.target',
      ],
      [
        { ...good, fields: [{ source: { model_id: modelId, field: 'nope' }, target: 'id' }] },
        422,
        'fields.0.source.field',
      ],
      [{ ...good, identity: undefined }, 422, 'identity'],
      [{ ...good, mode: 'sideways' }, 422, 'mode'],
      [
        { ...good, filters: [{ field: { model_id: modelId, field: 'id' }, function: 'Telepathy' }] },
        422,
        'filters.0.function',
      ],
      // The identity's target column is written from the identity's field, not from another one.
      [
        { ...good, fields: [{ source: { model_id: modelId, field: 'email' }, target: 'id' }] },
        422,
        'fields.0.target',
      ],
      [{ ...good, fields: [{ override_value: '7', target: 'id' }] }, 422, 'fields.0.target'],
      // A comparison without a value would compare with "" and keep (or drop) every record.
      [
        { ...good, filters: [{ field: { model_id: modelId, field: 'id' }, function: 'GreaterThan' }] },
        422,
        'filters.0.value',
      ],
      [
        {
          ...good,
          filters: [{ field: { model_id: modelId, field: 'id' }, function: 'Between', value: [1] }],
        },
        422,
        'filters.0.value',
      ],
      [
        {
          ...good,
          overrides: [
            {
              field: { model_id: modelId, field: 'email' },
              function: 'Equality',
              value: { a: 1 },
              override: 'x',
            },
          ],
        },
        422,
        'overrides.0.value',
      ],
      [{ ...good, schedule: { frequency: 'custom', minute: '99' } }, 422, 'schedule'],
    ];
    for (const [body, status, field] of cases) {
      const response = await post(body);
      assert.equal(response.status, status, `${field}: ${JSON.stringify(response.body)}`);
      assert.equal(typeof response.body.message, 'string');
      assert.equal(response.body.metadata?.field, field, JSON.stringify(response.body));
    }
    const tooMany = await http(ferry.url, 'GET', '/api/syncs?limit=51', { key: ferry.adminKey });
    assert.equal(tooMany.status, 422);
    assert.equal(tooMany.body.metadata.field, 'limit');
    const badToken = await http(ferry.url, 'GET', '/api/syncs?page_token=nonsense', { key: ferry.adminKey });
    assert.equal(badToken.status, 422);
    assert.equal(
      (await failure(() => sdk.modelSync.start('00000000-0000-4000-8000-000000000000'))).status,
      404,
    );
    assert.equal(await count(), before);
  });
});
