import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { call, connectHttp, ok } from '../mcp/client.ts';
import { createPgDatabase, type PgTestConfig, type TestDatabase } from '../support/databases.ts';
import { type FerryProcess, http, startFerry } from '../support/ferry.ts';
import { startAll } from '../support/start-all.ts';
import { until } from '../support/until.ts';

// An agent's loop over MCP on real data: bulk syncs between two PostgreSQL databases, driven only
// through tools, over Streamable HTTP at /mcp and on the MCP port.

const terminal = ['completed', 'failed', 'canceled', 'errors', 'interrupted'];

describe('MCP tools end to end', () => {
  let ferry: FerryProcess;
  let source: TestDatabase<PgTestConfig>;
  let destination: TestDatabase<PgTestConfig>;
  let agent: Client;
  let syncId: string;
  let longSyncId: string;

  const rest = async (method: string, path: string, body?: unknown) => {
    const res = await http(ferry.url, method, path, { key: ferry.adminKey, body });
    assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.data;
  };

  async function poll(
    client: Client,
    name: string,
    args: Record<string, unknown>,
    done: (d: any) => boolean,
  ) {
    return until(() => ok(client, name, args), done, `${name} to reach the expected state`);
  }

  before(async () => {
    [ferry, source, destination] = await startAll([startFerry(), createPgDatabase(), createPgDatabase()]);
    await source.query(`create table events (id int primary key, kind text not null, at timestamptz not null);
      insert into events select g, 'k' || (g % 7), timestamp '2024-01-01' + g * interval '1 minute'
      from generate_series(1, 2000) g;
      create table big (id bigint primary key, payload text not null);
      insert into big select g, repeat(md5(g::text), 8) from generate_series(1, 1000000) g;`);
    const src = await rest('POST', '/api/connections', {
      name: 'source',
      type: 'postgresql',
      configuration: source.config,
    });
    const dst = await rest('POST', '/api/connections', {
      name: 'warehouse',
      type: 'postgresql',
      configuration: destination.config,
    });
    const sync = (name: string, tables: string[]) =>
      rest('POST', '/api/bulk/syncs', {
        name,
        source_connection_id: src.id,
        destination_connection_id: dst.id,
        destination_configuration: { schema: name },
        schedule: { frequency: 'manual' },
        schemas: tables,
      });
    syncId = (await sync('events_copy', ['public.events'])).id;
    longSyncId = (await sync('big_copy', ['public.big'])).id;
    agent = await connectHttp(`${ferry.url}/mcp`, ferry.adminKey);
  });

  after(async () => {
    await agent?.close();
    await ferry?.stop();
    await Promise.all([source?.drop(), destination?.drop()]);
  });

  it('lists the tools with their annotations on /mcp and on the MCP port', async () => {
    const { tools } = await agent.listTools();
    const byName = new Map(tools.map((t) => [t.name, t]));
    assert.deepEqual(byName.get('get-bulk-sync-execution')?.annotations, {
      title: 'Get Bulk Sync Execution',
      readOnlyHint: true,
      destructiveHint: false,
      idempotentHint: true,
      openWorldHint: false,
    });
    assert.equal(byName.get('start-bulk-sync')?.annotations?.openWorldHint, true);
    assert.equal(byName.get('delete-model-sync')?.annotations?.destructiveHint, true);
    for (const name of ['list-connections', 'start-bulk-sync', 'get-job', 'list-sync-executions']) {
      assert.ok(byName.has(name), name);
    }
    const onPort = await connectHttp(ferry.mcpUrl, ferry.adminKey);
    try {
      assert.deepEqual((await onPort.listTools()).tools.map((t) => t.name).sort(), [...byName.keys()].sort());
    } finally {
      await onPort.close();
    }
  });

  it('runs the loop: find, start, poll, read console logs, export logs and fetch the archive', async () => {
    const connections = await ok(agent, 'list-connections');
    assert.deepEqual(connections.map((c: any) => c.name).sort(), ['source', 'warehouse']);
    const syncs = await ok(agent, 'list-bulk-syncs');
    assert.ok(syncs.some((s: any) => s.id === syncId));

    const started = await ok(agent, 'start-bulk-sync', { id: syncId });
    const done = await poll(agent, 'get-bulk-sync-execution', { id: syncId, exec_id: started.id }, (e) =>
      terminal.includes(e.status),
    );
    assert.equal(done.status, 'completed', JSON.stringify(done));
    assert.equal(done.record_count, 2000);
    const status = await ok(agent, 'get-bulk-sync-status', { id: syncId });
    assert.equal(
      status.last_execution?.id ?? status.current_execution?.id,
      started.id,
      JSON.stringify(status),
    );
    const [{ count }] = await destination.query('select count(*)::int as count from events_copy.events');
    assert.equal(count, 2000);

    const executions = await call(agent, 'list-bulk-sync-executions', { id: syncId, limit: 1 });
    assert.deepEqual(
      executions.data.map((e: any) => e.id),
      [started.id],
    );
    assert.ok('pagination' in executions.structured);
    const statuses = await ok(agent, 'list-bulk-sync-execution-status', { sync_id: [syncId] });
    assert.deepEqual(
      statuses.map((s: any) => [s.sync_id, s.status]),
      [[syncId, 'completed']],
    );

    const consoleLog = await ok(agent, 'get-bulk-execution-console-logs', {
      sync_id: syncId,
      execution_id: started.id,
      limit: 2,
    });
    assert.equal(consoleLog.entries.length, 2);
    assert.match(consoleLog.entries[0].message, /execution completed/);
    const tableLog = await ok(agent, 'get-bulk-schema-execution-console', {
      sync_id: syncId,
      execution_id: started.id,
      schema_id: 'public.events',
    });
    assert.ok(tableLog.entries.length > 0);
    assert.ok(tableLog.entries.every((e: any) => e.schema === 'public.events'));

    const files = await ok(agent, 'get-bulk-sync-execution-logs', {
      sync_id: syncId,
      execution_id: started.id,
    });
    assert.ok(Array.isArray(files.URLs));

    const exported = await ok(agent, 'export-sync-logs', {
      sync_id: syncId,
      execution_id: started.id,
      notify: false,
    });
    const job = await poll(agent, 'get-job', { type: 'exportlogs', id: exported.job_id }, (j) =>
      ['done', 'failed'].includes(j.status),
    );
    assert.equal(job.status, 'done', JSON.stringify(job));
    assert.ok(job.result.url.startsWith(`${ferry.url}/api/logs/`), 'links are absolute for the agent');
    const archive = await fetch(job.result.url);
    assert.equal(archive.status, 200);
    assert.equal(archive.headers.get('content-type'), 'application/gzip');
    assert.ok((await archive.arrayBuffer()).byteLength > 100);
  });

  it('cancels a long run', async () => {
    const started = await ok(agent, 'start-bulk-sync', { id: longSyncId });
    await poll(agent, 'get-bulk-sync-execution', { id: longSyncId, exec_id: started.id }, (e) =>
      ['running', ...terminal].includes(e.status),
    );
    const canceled = await ok(agent, 'cancel-bulk-sync-execution', { id: longSyncId, exec_id: started.id });
    assert.match(canceled.message, /cancel/);
    const ended = await poll(agent, 'get-bulk-sync-execution', { id: longSyncId, exec_id: started.id }, (e) =>
      terminal.includes(e.status),
    );
    assert.equal(ended.status, 'canceled');
    const [table] = await destination.query(`select to_regclass('big_copy.big') is not null as present`);
    assert.equal(table.present, false, 'the canceled run left the destination untouched');
  });

  it('serves the same execution through the Naftiko adapter as through /api', async () => {
    const [execution] = await ok(agent, 'list-bulk-sync-executions', { id: syncId, limit: 1 });
    const path = `/api/bulk/syncs/${syncId}/executions/${execution.id}`;
    const viaAdapter = await http(ferry.url, 'GET', `/v1${path}`, { key: ferry.adminKey });
    assert.equal(viaAdapter.status, 200);
    assert.deepEqual(
      viaAdapter.body,
      await http(ferry.url, 'GET', path, { key: ferry.adminKey }).then((r) => r.body),
    );
    const consoleLog = await http(ferry.url, 'GET', `/v1${path}/consolelog?limit=1`, { key: ferry.adminKey });
    assert.equal(consoleLog.body.data.entries.length, 1);
    const badLimit = await http(ferry.url, 'GET', `/v1/api/bulk/syncs/${syncId}/executions?limit=101`, {
      key: ferry.adminKey,
    });
    assert.equal(badLimit.status, 422);
    assert.equal(badLimit.body.metadata.field, 'limit');
  });

  it("shows another organization's key nothing", async () => {
    const org = await rest('POST', '/api/organizations', { name: `other ${randomUUID()}` });
    const user = await rest('POST', `/api/organizations/${org.id}/users`, { email: 'agent@example.com' });
    const key = (await rest('POST', `/api/organizations/${org.id}/users/${user.id}/keys`)).value;
    const other = await connectHttp(`${ferry.url}/mcp`, key);
    try {
      assert.deepEqual(await ok(other, 'list-bulk-syncs'), []);
      assert.deepEqual(await ok(other, 'list-connections'), []);
      assert.deepEqual(await ok(other, 'list-bulk-sync-execution-status', { all: true }), []);
      const [execution] = await ok(agent, 'list-bulk-sync-executions', { id: syncId, limit: 1 });
      const denied = await call(other, 'get-bulk-sync-execution', { id: syncId, exec_id: execution.id });
      assert.equal(denied.isError, true);
      assert.match(denied.text, /^404 not_found/);
      assert.equal(denied.structured.error.status, 404);
      const notCanceled = await call(other, 'start-bulk-sync', { id: syncId });
      assert.equal(notCanceled.isError, true);
    } finally {
      await other.close();
    }
  });

  it('refuses missing and wrong keys before any MCP work', async () => {
    const init = { jsonrpc: '2.0', id: 1, method: 'tools/list' };
    const missing = await http(ferry.url, 'POST', '/mcp', { body: init });
    assert.equal(missing.status, 401);
    assert.equal(missing.headers.get('www-authenticate'), 'Bearer realm="ferry"');
    const wrong = await http(ferry.url, 'POST', '/mcp', { key: 'fy_nope_0000000000000000', body: init });
    assert.equal(wrong.status, 401);
    await assert.rejects(connectHttp(ferry.mcpUrl, 'fy_nope_0000000000000000'));
  });

  it('answers bad tool input with a tool error naming the field, and keeps serving', async () => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['get-bulk-sync-execution', { id: syncId }, /required at exec_id/],
      ['get-bulk-sync-execution', { id: 123, exec_id: randomUUID() }, /id/],
      ['get-bulk-sync-execution', { id: 'not-a-uuid', exec_id: randomUUID() }, /must be a UUID/],
      ['list-bulk-sync-executions', { id: syncId, limit: 101 }, /limit/],
      ['list-bulk-sync-executions', { id: syncId, limit: 'ten' }, /limit/],
      ['list-syncs', { limit: 51 }, /limit/],
      ['list-bulk-sync-execution-status', { sync_id: 'one' }, /sync_id/],
      ['get-bulk-sync', { id: syncId, extra: true }, /extra/],
    ];
    for (const [name, args, field] of cases) {
      const outcome = await call(agent, name, args);
      assert.equal(outcome.isError, true, `${name} ${JSON.stringify(args)}`);
      assert.match(outcome.text, field, outcome.text);
    }
    const badToken = await call(agent, 'list-bulk-sync-executions', { id: syncId, page_token: 'zzz' });
    assert.equal(badToken.isError, true);
    assert.match(badToken.text, /^422 .*page_token/);
    const unknown = await call(agent, 'get-bulk-sync', { id: randomUUID() });
    assert.match(unknown.text, /^404 not_found/);
    assert.ok((await ok(agent, 'list-bulk-syncs')).length >= 2, 'the server still serves');
  });
});
