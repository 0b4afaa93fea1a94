import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { call, connectHttp, ok, patient } from '../mcp/client.ts';
import { createPgDatabase, type PgTestConfig, type TestDatabase, tempDir } from '../support/databases.ts';
import { type FerryProcess, http, startFerry } from '../support/ferry.ts';
import { startAll } from '../support/start-all.ts';
import { until } from '../support/until.ts';

// Upstream mode: `ferry mcp --upstream URL` serves the same tools (stdio, or Streamable HTTP with the
// Naftiko adapter) over another Ferry, reached through a proxy that records what the upstream receives.
// Also the local stdio server, over its own store.

const binary = path.resolve(import.meta.dirname, '../../bin/ferry.js');
const terminal = ['completed', 'failed', 'canceled', 'errors', 'interrupted'];

/** Forwards every request to `target` and remembers the headers it forwarded. */
async function recordingProxy(target: string) {
  const seen: IncomingHttpHeaders[] = [];
  const server: Server = createServer((incoming, outgoing) => {
    seen.push(incoming.headers);
    const url = new URL(incoming.url!, target);
    const upstream = request(
      url,
      { method: incoming.method, headers: { ...incoming.headers, host: url.host } },
      (res) => {
        outgoing.writeHead(res.statusCode!, res.headers);
        res.pipe(outgoing);
      },
    );
    incoming.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** `ferry mcp --upstream URL --http 0`, up once it prints its address. */
async function startGateway(upstream: string) {
  const child: ChildProcess = spawn(
    process.execPath,
    [binary, 'mcp', '--upstream', upstream, '--http', '0'],
    {
      env: { ...process.env, FERRY_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout!.on('data', (chunk) => (out += chunk));
  child.stderr!.on('data', (chunk) => (out += chunk));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', () => {
      const match = /listening on (http:\/\/localhost:\d+)\/mcp/.exec(out);
      if (match) resolve(match[1]!.replace('localhost', '127.0.0.1'));
    });
    exited.then(() => reject(new Error(`the gateway exited: ${out}`)));
  });
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function stdioClient(args: string[], env: Record<string, string>) {
  return new StdioClientTransport({
    command: process.execPath,
    args: [binary, 'mcp', ...args],
    env: { ...(process.env as Record<string, string>), FERRY_LOG_LEVEL: 'warn', ...env },
    stderr: 'pipe',
  });
}

describe('MCP over an upstream API', () => {
  let upstream: FerryProcess;
  let proxy: Awaited<ReturnType<typeof recordingProxy>>;
  let gateway: Awaited<ReturnType<typeof startGateway>>;
  let source: TestDatabase<PgTestConfig>;
  let destination: TestDatabase<PgTestConfig>;
  let syncId: string;
  let executionId: string;

  before(async () => {
    [upstream, source, destination] = await startAll([startFerry(), createPgDatabase(), createPgDatabase()]);
    await source.query(
      `create table items (id int primary key, name text); insert into items select g, 'n' || g from generate_series(1, 300) g`,
    );
    const rest = async (method: string, route: string, body?: unknown) => {
      const res = await http(upstream.url, method, route, { key: upstream.adminKey, body });
      assert.ok(res.status < 300, `${method} ${route}: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.data;
    };
    const src = await rest('POST', '/api/connections', {
      name: 's',
      type: 'postgresql',
      configuration: source.config,
    });
    const dst = await rest('POST', '/api/connections', {
      name: 'd',
      type: 'postgresql',
      configuration: destination.config,
    });
    syncId = (
      await rest('POST', '/api/bulk/syncs', {
        name: 'items',
        source_connection_id: src.id,
        destination_connection_id: dst.id,
        destination_configuration: { schema: 'copied' },
        schedule: { frequency: 'manual' },
        schemas: ['public.items'],
      })
    ).id;
    executionId = (await rest('POST', `/api/bulk/syncs/${syncId}/executions`)).id;
    await until(
      () => rest('GET', `/api/bulk/syncs/${syncId}/executions/${executionId}`),
      (execution) => terminal.includes(execution.status),
      'the bulk run',
    );
    proxy = await recordingProxy(upstream.url);
    gateway = await startGateway(proxy.url);
  });

  after(async () => {
    await gateway?.stop();
    await proxy?.close();
    await upstream?.stop();
    await Promise.all([source?.drop(), destination?.drop()]);
  });

  it('serves the tools over Streamable HTTP, forwarding the key and X-Polytomic-Version', async () => {
    const agent = await connectHttp(`${gateway.url}/mcp`, upstream.adminKey, {
      'x-polytomic-version': '2024-02-08',
    });
    try {
      const syncs = await ok(agent, 'list-bulk-syncs');
      assert.deepEqual(
        syncs.map((s: any) => s.id),
        [syncId],
      );
      const execution = await ok(agent, 'get-bulk-sync-execution', { id: syncId, exec_id: executionId });
      assert.equal(execution.status, 'completed');
      assert.equal(execution.record_count, 300);
      const consoleLog = await ok(agent, 'get-bulk-execution-console-logs', {
        sync_id: syncId,
        execution_id: executionId,
        limit: 1,
      });
      assert.match(consoleLog.entries[0].message, /execution completed/);

      const exported = await ok(agent, 'export-sync-logs', { sync_id: syncId, execution_id: executionId });
      const job = await until(
        () => ok(agent, 'get-job', { type: 'exportlogs', id: exported.job_id }),
        (j) => ['done', 'failed'].includes(j.status),
        'the log export',
      );
      assert.equal(job.status, 'done', JSON.stringify(job));
      assert.ok(job.result.url.startsWith(`${proxy.url}/api/logs/`), 'links point at the upstream');
      assert.equal((await fetch(job.result.url)).status, 200);

      const forwarded = proxy.seen.filter((h) => h.authorization);
      assert.ok(forwarded.length >= 4);
      assert.ok(forwarded.every((h) => h.authorization === `Bearer ${upstream.adminKey}`));
      assert.ok(forwarded.every((h) => h['x-polytomic-version'] === '2024-02-08'));
    } finally {
      await agent.close();
    }
  });

  it("passes the upstream's refusal of a wrong key back as a tool error", async () => {
    const agent = await connectHttp(`${gateway.url}/mcp`, `fy_wrong_${randomBytes(8).toString('hex')}`);
    try {
      const refused = await call(agent, 'list-bulk-syncs');
      assert.equal(refused.isError, true);
      assert.match(refused.text, /^401 unauthorized/);
    } finally {
      await agent.close();
    }
  });

  it('serves the Naftiko adapter in front of the upstream', async () => {
    const route = `/api/bulk/syncs/${syncId}/executions/${executionId}`;
    const viaGateway = await http(gateway.url, 'GET', `/v1${route}`, { key: upstream.adminKey });
    assert.equal(viaGateway.status, 200);
    const direct = await http(upstream.url, 'GET', route, { key: upstream.adminKey });
    assert.deepEqual(viaGateway.body, direct.body);
    const status = await http(gateway.url, 'GET', `/v1/api/bulk/syncs/status?sync_id=${syncId}`, {
      key: upstream.adminKey,
    });
    assert.deepEqual(
      status.body.data.map((s: any) => s.sync_id),
      [syncId],
    );
    const unauthenticated = await http(gateway.url, 'GET', `/v1${route}`);
    assert.equal(unauthenticated.status, 401);
    assert.equal((await http(gateway.url, 'GET', '/v1/api/nothing', { key: upstream.adminKey })).status, 404);
  });

  it('serves the tools over stdio with the key from the environment', async () => {
    const agent = new Client({ name: 'desktop', version: '1' });
    await agent.connect(
      stdioClient(['--upstream', proxy.url, '--api-version', '2024-02-08'], {
        POLYTOMIC_API_KEY: upstream.adminKey,
      }),
      patient,
    );
    try {
      const { tools } = await agent.listTools();
      assert.ok(tools.some((t) => t.name === 'list-bulk-sync-execution-status'));
      const statuses = await ok(agent, 'list-bulk-sync-execution-status', { all: true });
      assert.deepEqual(
        statuses.map((s: any) => [s.sync_id, s.status]),
        [[syncId, 'completed']],
      );
    } finally {
      await agent.close();
    }
  });

  it('serves the tools over stdio on a local store', async () => {
    const dir = tempDir();
    const key = `fy_local_${randomBytes(16).toString('hex')}`;
    const agent = new Client({ name: 'desktop', version: '1' });
    try {
      await agent.connect(stdioClient([], { FERRY_DATA_DIR: dir.path, FERRY_API_KEY: key }), patient);
      assert.deepEqual(await ok(agent, 'list-connections'), []);
      const missing = await call(agent, 'get-bulk-sync', { id: syncId });
      assert.match(missing.text, /^404 not_found/, 'the local store is not the upstream');
    } finally {
      await agent.close();
      dir.cleanup();
    }
  });
});
