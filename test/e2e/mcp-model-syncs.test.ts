import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { call, connectHttp, ok } from '../mcp/client.ts';
import { createPgDatabase, type PgTestConfig, type TestDatabase } from '../support/databases.ts';
import { type FerryProcess, http, startFerry } from '../support/ferry.ts';
import { startAll } from '../support/start-all.ts';
import { until } from '../support/until.ts';

// An agent's model sync loop over MCP on real PostgreSQL: discover the source, create a sync from a
// model on a table into another database, run it, read its logs, and tear it down, only through tools.

const terminal = ['completed', 'failed', 'canceled', 'interrupted'];

describe('MCP model sync tools end to end', () => {
  let ferry: FerryProcess;
  let source: TestDatabase<PgTestConfig>;
  let target: TestDatabase<PgTestConfig>;
  let agent: Client;
  let sourceId: string;
  let targetId: string;
  let modelId: string;
  let slowModelId: string;

  const rest = async (method: string, path: string, body?: unknown) => {
    const res = await http(ferry.url, method, path, { key: ferry.adminKey, body });
    assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.data;
  };

  const poll = (name: string, args: Record<string, unknown>, done: (d: any) => boolean) =>
    until(() => ok(agent, name, args), done, `${name} to reach the expected state`);

  const field = (model: string, name: string, to = name) => ({
    source: { model_id: model, field: name },
    target: to,
  });
  const syncBody = (name: string, fields: string[]) => ({
    name,
    mode: 'updateOrCreate',
    target: { connection_id: targetId, object: 'public.people_copy' },
    fields: fields.map((f) => field(modelId, f)),
    identity: { ...field(modelId, 'id'), function: 'Equality' },
    schedule: { frequency: 'manual' },
  });

  before(async () => {
    [ferry, source, target] = await startAll([startFerry(), createPgDatabase(), createPgDatabase()]);
    await source.query(`create table people (id int primary key, email text not null, name text, score int);
      insert into people values (1, 'a@x.io', 'Ann', 10), (2, 'b@x.io', 'Bob', 20), (3, 'c@x.io', 'Cy', 30)`);
    await target.query(`create table people_copy (id int primary key, email text, name text, score int);
      create table naps (id int, nap text)`);
    sourceId = (
      await rest('POST', '/api/connections', {
        name: 'crm',
        type: 'postgresql',
        configuration: source.config,
      })
    ).id;
    targetId = (
      await rest('POST', '/api/connections', {
        name: 'app',
        type: 'postgresql',
        configuration: target.config,
      })
    ).id;
    agent = await connectHttp(`${ferry.url}/mcp`, ferry.adminKey);
  });

  after(async () => {
    await agent?.close();
    await ferry?.stop();
    await Promise.all([source?.drop(), target?.drop()]);
  });

  it('discovers the source: its tables and the fields of one', async () => {
    const meta = await ok(agent, 'get-sync-source', { id: sourceId });
    assert.deepEqual(meta.requires_one_of, ['query', 'table']);
    assert.ok(
      meta.items.table.items.some((item: any) => item.value === 'public.people'),
      JSON.stringify(meta),
    );
    const fields = await ok(agent, 'model-sync-field-query', {
      id: sourceId,
      params: { table: ['public.people'] },
    });
    assert.deepEqual(
      fields.map((f: any) => f.name),
      ['id', 'email', 'name', 'score'],
    );
    const queried = await ok(agent, 'model-sync-field-query', {
      id: sourceId,
      params: { query: ['select id, email from people'] },
    });
    assert.deepEqual(
      queried.map((f: any) => f.name),
      ['id', 'email'],
    );
    // Errors name the tool's input, `params`, not the model's `configuration` behind it.
    const missing = await call(agent, 'model-sync-field-query', { id: sourceId });
    assert.equal(missing.isError, true);
    assert.equal(missing.structured.error.field, 'params', missing.text);
    assert.match(missing.text, /^422 validation_failed: params: give exactly one of "query" or "table"/);
    const noTable = await call(agent, 'model-sync-field-query', {
      id: sourceId,
      params: { table: ['public.nope'] },
    });
    assert.equal(noTable.structured.error.field, 'params.table', noTable.text);
    assert.match(noTable.text, /params\.table: the connection has no table "public\.nope"/);
    modelId = (
      await rest('POST', '/api/models', {
        name: 'people',
        connection_id: sourceId,
        configuration: { table: 'public.people' },
        identifier: 'id',
      })
    ).id;
    slowModelId = (
      await rest('POST', '/api/models', {
        name: 'naps',
        connection_id: sourceId,
        configuration: {
          query: 'select g as id, pg_sleep(0.01)::text as nap from generate_series(1, 100000) g',
        },
      })
    ).id;
  });

  it('creates, lists, reads, updates, runs, reads the logs of and deletes a model sync', async () => {
    const options = await ok(agent, 'get-sync-schedule-options');
    assert.ok(options.schedule_options.some((o: any) => o.frequency === 'manual'));

    const created = await ok(agent, 'create-sync', {
      body: syncBody('people copy', ['id', 'email', 'name']),
    });
    assert.equal(created.mode, 'updateOrCreate');
    assert.equal(created.target.connection_id, targetId);

    const listed = await call(agent, 'list-syncs', {
      mode: 'updateOrCreate',
      target_connection_id: targetId,
    });
    assert.deepEqual(
      listed.data.map((s: any) => s.id),
      [created.id],
    );
    assert.ok(listed.structured.pagination, 'lists carry pagination');
    assert.deepEqual(await ok(agent, 'list-syncs', { mode: 'create' }), []);

    const updated = await ok(agent, 'update-sync', {
      id: created.id,
      body: syncBody('people copy v2', ['id', 'email', 'name', 'score']),
    });
    assert.equal(updated.name, 'people copy v2');
    const read = await ok(agent, 'get-sync', { id: created.id });
    assert.equal(read.name, 'people copy v2');
    assert.deepEqual(read.fields.map((f: any) => f.target).sort(), ['email', 'id', 'name', 'score']);

    const started = await ok(agent, 'start-sync', { id: created.id });
    await poll('get-sync-status', { id: created.id }, (s) => terminal.includes(s.last_execution?.status));
    const done = await poll('get-sync-execution', { sync_id: created.id, id: started.id }, (e) =>
      terminal.includes(e.status),
    );
    assert.equal(done.status, 'completed', JSON.stringify(done));
    assert.equal(done.counts.insert, 3);
    assert.deepEqual(await target.query('select id, email, name, score from people_copy order by id'), [
      { id: 1, email: 'a@x.io', name: 'Ann', score: 10 },
      { id: 2, email: 'b@x.io', name: 'Bob', score: 20 },
      { id: 3, email: 'c@x.io', name: 'Cy', score: 30 },
    ]);
    const status = await ok(agent, 'get-sync-status', { id: created.id });
    assert.equal(status.last_execution.id, started.id);
    const executions = await ok(agent, 'list-sync-executions', { sync_id: created.id, only_completed: true });
    assert.deepEqual(
      executions.map((e: any) => e.id),
      [started.id],
    );

    const consoleLog = await ok(agent, 'get-sync-execution-console-logs', {
      sync_id: created.id,
      id: started.id,
      limit: 50,
    });
    assert.ok(consoleLog.entries.length > 0, JSON.stringify(consoleLog));
    const newer = await ok(agent, 'get-sync-execution-console-logs', {
      sync_id: created.id,
      id: started.id,
      after: consoleLog.entries.at(-1).cursor,
    });
    assert.ok(newer.entries.length < consoleLog.entries.length);

    const logs = await ok(agent, 'get-sync-execution-logs', { sync_id: created.id, id: started.id });
    const inserts = logs.files.find((f: any) => f.type === 'inserts');
    assert.equal(inserts?.records, 3, JSON.stringify(logs));
    const urls = await ok(agent, 'get-sync-execution-logs', {
      sync_id: created.id,
      id: started.id,
      type: 'inserts',
    });
    assert.equal(urls.urls.length, 1);
    const file = await fetch(urls.urls[0]);
    assert.equal(file.status, 200);
    const lines = (await file.text()).trim().split('\n');
    assert.equal(lines.length, 3);

    assert.deepEqual(await ok(agent, 'activate-sync', { id: created.id, body: { active: true } }), {
      id: created.id,
      active: true,
    });
    assert.equal((await ok(agent, 'get-sync', { id: created.id })).active, true);
    assert.deepEqual(
      (await ok(agent, 'list-syncs', { active: true })).map((s: any) => s.id),
      [created.id],
    );
    await ok(agent, 'activate-sync', { id: created.id, body: { active: false } });

    assert.equal(await ok(agent, 'delete-model-sync', { id: created.id }), null);
    const gone = await call(agent, 'get-sync', { id: created.id });
    assert.equal(gone.isError, true);
    assert.match(gone.text, /^404 not_found/);
    assert.deepEqual(await ok(agent, 'list-syncs'), []);
  });

  it('cancels runs with cancel-sync and cancel-sync-execution', async () => {
    const sync = await ok(agent, 'create-sync', {
      body: {
        name: 'naps',
        mode: 'append',
        target: { connection_id: targetId, object: 'public.naps' },
        fields: [field(slowModelId, 'id'), field(slowModelId, 'nap')],
        schedule: { frequency: 'manual' },
      },
    });
    const started = await ok(agent, 'start-sync', { id: sync.id, body: { resync: false } });
    assert.equal(
      (await ok(agent, 'start-sync', { id: sync.id })).id,
      started.id,
      'the active run is returned',
    );
    const canceling = await ok(agent, 'cancel-sync', { id: sync.id });
    assert.match(canceling.message, new RegExp(started.id));
    const done = await poll('get-sync-execution', { sync_id: sync.id, id: started.id }, (e) =>
      terminal.includes(e.status),
    );
    assert.equal(done.status, 'canceled');
    const again = await call(agent, 'cancel-sync', { id: sync.id });
    assert.equal(again.isError, true);
    assert.match(again.text, /^409 /);

    const next = await ok(agent, 'start-sync', { id: sync.id });
    assert.notEqual(next.id, started.id);
    await ok(agent, 'cancel-sync-execution', { sync_id: sync.id, id: next.id });
    const nextDone = await poll('get-sync-execution', { sync_id: sync.id, id: next.id }, (e) =>
      terminal.includes(e.status),
    );
    assert.equal(nextDone.status, 'canceled');
    await ok(agent, 'delete-model-sync', { id: sync.id });
  });

  it('answers bad input with tool errors naming the field', async () => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['get-sync', { id: 'not-a-uuid' }, /must be a UUID/],
      ['get-sync-source', { id: randomUUID() }, /^404 not_found/],
      ['model-sync-field-query', { id: sourceId, params: { table: ['public.nowhere'] } }, /^4\d\d /],
      ['create-sync', { body: { name: 'no target', mode: 'create' } }, /^422 .*target/],
      ['create-sync', { body: { ...syncBody('bad mode', ['id']), mode: 'sideways' } }, /^422 .*mode/],
      ['update-sync', { id: randomUUID(), body: syncBody('ghost', ['id']) }, /^404 not_found/],
      ['list-syncs', { mode: 'sideways' }, /^422 .*mode/],
      ['list-syncs', { limit: 51 }, /limit/],
      ['activate-sync', { id: randomUUID() }, /body/],
      ['start-sync', { id: randomUUID() }, /^404 not_found/],
      ['get-sync-status', { id: randomUUID() }, /^404 not_found/],
      ['get-sync-execution-logs', { sync_id: randomUUID(), id: randomUUID(), type: 'bogus' }, /type/],
      ['get-sync-execution-console-logs', { sync_id: randomUUID(), id: randomUUID() }, /^404 not_found/],
    ];
    for (const [name, args, expected] of cases) {
      const outcome = await call(agent, name, args);
      assert.equal(outcome.isError, true, `${name} ${JSON.stringify(args)}`);
      assert.match(outcome.text, expected, `${name}: ${outcome.text}`);
    }
    assert.ok(Array.isArray(await ok(agent, 'list-syncs')), 'the server still serves');
  });
});
