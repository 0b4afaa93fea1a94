import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createPgDatabase } from '../support/databases.ts';
import { type FerryProcess, http, startFerry } from '../support/ferry.ts';
import { startAll } from '../support/start-all.ts';
import { until } from '../support/until.ts';

// The Qontext sync-log dialect end to end: logs of real full, incremental, manual and failed bulk
// runs between two PostgreSQL databases, their trace ids, filters and pagination, and tenancy.

const traceparent = () => {
  const traceId = randomBytes(16).toString('hex');
  return { traceId, header: `00-${traceId}-${randomBytes(8).toString('hex')}-01` };
};

describe('Qontext sync-log dialect', () => {
  let ferry: FerryProcess;
  let source: Awaited<ReturnType<typeof createPgDatabase>>;
  let destination: Awaited<ReturnType<typeof createPgDatabase>>;
  let workspace: string;
  let keyB: string;
  let workspaceB: string;
  const syncs: Record<'full' | 'incremental' | 'doomed', string> = { full: '', incremental: '', doomed: '' };
  const runs: Record<'full' | 'incremental' | 'manual' | 'failed', string> = {
    full: '',
    incremental: '',
    manual: '',
    failed: '',
  };
  let fullTrace: string;
  let incrementalTrace: string;

  const admin = (method: string, route: string, body?: unknown, headers?: Record<string, string>) =>
    http(ferry.url, method, route, { key: ferry.adminKey, body, headers });
  const ok = async (method: string, route: string, body?: unknown, headers?: Record<string, string>) => {
    const res = await admin(method, route, body, headers);
    assert.ok(res.status < 300, `${method} ${route}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const logs = (route: string, key = ferry.adminKey) =>
    http(ferry.url, 'GET', route, { headers: { 'x-api-key': key } });
  const log = async (id: string) => (await logs(`/workspaces/${workspace}/sync-logs/${id}`)).body;

  const ended = (id: string) =>
    until(
      () => log(id),
      (value) => ['completed', 'failed', 'stopped', 'skipped'].includes(value.status),
      `sync log ${id}`,
    );

  before(async () => {
    [ferry, source, destination] = await startAll([
      startFerry({ env: { FERRY_LOG_LEVEL: 'info' } }),
      createPgDatabase(),
      createPgDatabase(),
    ]);
    await source.query(`create table small (id int primary key, qty int not null);
      insert into small select g, g from generate_series(1, 100) g;
      create table events (id int primary key, at timestamptz not null);
      insert into events select g, timestamp '2024-01-01' + g * interval '1 minute' from generate_series(1, 3000) g;
      create table doomed (id int primary key);
      insert into doomed values (1)`);
    workspace = (await ok('GET', '/api/organizations')).data[0].id;
    workspaceB = (await ok('POST', '/api/organizations', { name: 'Qontext B' })).data.id;
    const userB = (await ok('POST', `/api/organizations/${workspaceB}/users`, { email: 'b@example.com' }))
      .data.id;
    keyB = (await ok('POST', `/api/organizations/${workspaceB}/users/${userB}/keys`)).data.value;
    const connection = async (name: string, db: typeof source) =>
      (await ok('POST', '/api/connections', { name, type: 'postgresql', configuration: db.config })).data.id;
    const [src, dst] = [await connection('src', source), await connection('dst', destination)];
    const sync = async (name: string, mode: string, schemas: unknown[]) =>
      (
        await ok('POST', '/api/bulk/syncs', {
          name,
          mode,
          source_connection_id: src,
          destination_connection_id: dst,
          destination_configuration: { schema: name },
          schedule: { frequency: 'manual' },
          schemas,
        })
      ).data.id;
    syncs.full = await sync('full', 'snapshot', ['public.small', 'public.events']);
    syncs.incremental = await sync('incremental', 'replicate', [
      { id: 'public.events', tracking_field: 'at' },
    ]);
    syncs.doomed = await sync('doomed', 'snapshot', ['public.doomed']);
  });

  after(async () => {
    await ferry?.stop();
    await Promise.all([source?.drop(), destination?.drop()]);
  });

  it('logs a full run started through the Polytomic face under its traceparent', async () => {
    const trace = traceparent();
    fullTrace = trace.traceId;
    runs.full = (
      await ok('POST', `/api/bulk/syncs/${syncs.full}/executions`, undefined, { traceparent: trace.header })
    ).data.id;
    const done = await ended(runs.full);
    assert.equal(done.id, runs.full);
    assert.equal(done.ingestionPipelineId, syncs.full);
    assert.equal(done.workspaceId, workspace);
    assert.equal(typeof done.knowledgeGraphId, 'string');
    assert.deepEqual([done.type, done.status], ['full_sync', 'completed']);
    assert.equal(done.correlationId, trace.traceId);
    assert.deepEqual(done.preparationMetadata, { 'public.events': 3000, 'public.small': 100 });
    assert.deepEqual([done.totalRecordsToIngest, done.recordsIngested], [3100, 3100]);
    assert.deepEqual(
      [done.errorMessage, done.userFacingError, done.manualSyncData, done.minDate],
      [null, null, null, null],
    );
    assert.ok(done.startedAt && done.completedAt && done.preparationCompletedAt && done.createdAt);
    assert.ok(done.jobId && done.workflowId && done.workflowRunId && done.updatedAt);

    const first = await ok(
      'GET',
      `/api/bulk/syncs/${syncs.full}/executions/${runs.full}/consolelog?after=0&limit=1`,
    );
    assert.match(first.data.entries[0].message, new RegExp(`^execution started .*trace ${trace.traceId}$`));
    const runLines = ferry
      .stderr()
      .split('\n')
      .filter((line) => line.includes(`"executionId":"${runs.full}"`));
    assert.ok(runLines.length >= 2, 'the run writes process log lines');
    assert.ok(
      runLines.every((line) => JSON.parse(line).traceId === trace.traceId),
      'each carries the trace id',
    );
  });

  it('logs an incremental run started through the Celigo face under its traceparent', async () => {
    const trace = traceparent();
    incrementalTrace = trace.traceId;
    const started = await admin('POST', `/v1/syncs/${syncs.incremental}/run`, undefined, {
      traceparent: trace.header,
    });
    assert.equal(started.status, 200, JSON.stringify(started.body));
    runs.incremental = started.body.flowExecutionGroupId;
    const done = await ended(runs.incremental);
    assert.deepEqual([done.type, done.status], ['incremental_sync', 'completed']);
    assert.equal(done.correlationId, trace.traceId);
    assert.equal(done.recordsIngested, 3000);
  });

  it('logs a run of chosen tables as a manual sync', async () => {
    runs.manual = (
      await ok('POST', `/api/bulk/syncs/${syncs.full}/executions`, { schemas: ['public.small'] })
    ).data.id;
    const done = await ended(runs.manual);
    assert.deepEqual([done.type, done.status], ['manual_sync', 'completed']);
    assert.deepEqual(done.manualSyncData.tables, ['public.small']);
    assert.equal(done.recordsIngested, 100);
    assert.match(done.correlationId, /^[0-9a-f]{32}$/, 'a run without traceparent gets a trace id');
    assert.notEqual(done.correlationId, fullTrace);
  });

  it('logs a failed run with its error', async () => {
    await source.query('drop table doomed');
    runs.failed = (await ok('POST', `/api/bulk/syncs/${syncs.doomed}/executions`)).data.id;
    const done = await ended(runs.failed);
    assert.deepEqual([done.type, done.status], ['full_sync', 'failed']);
    assert.match(done.errorMessage, /public\.doomed/);
    assert.equal(done.userFacingError, '1 of 1 table(s) could not be synced.');
    assert.equal(done.recordsIngested, 0);
  });

  it('filters the log list by status, type, pipeline and time, newest first', async () => {
    const all = await logs(`/workspaces/${workspace}/sync-logs`);
    assert.equal(all.status, 200);
    assert.deepEqual(
      all.body.map((l: any) => l.id),
      [runs.failed, runs.manual, runs.incremental, runs.full],
    );
    const ids = async (query: string) =>
      (await logs(`/workspaces/${workspace}/sync-logs?${query}`)).body.map((l: any) => l.id);
    assert.deepEqual(await ids('status=failed'), [runs.failed]);
    assert.deepEqual(await ids('status=completed&type=full_sync'), [runs.full]);
    assert.deepEqual(await ids('type=incremental_sync,manual_sync'), [runs.manual, runs.incremental]);
    assert.deepEqual(await ids('type=manual_sync&type=incremental_sync'), [runs.manual, runs.incremental]);
    assert.deepEqual(await ids('type=live_sync'), []);
    assert.deepEqual(await ids(`ingestionPipelineId=${syncs.incremental}`), [runs.incremental]);
    const manual = await log(runs.manual);
    assert.deepEqual(await ids(`createdAfter=${encodeURIComponent(manual.createdAt)}`), [
      runs.failed,
      runs.manual,
    ]);
    assert.deepEqual(await ids(`createdBefore=${encodeURIComponent(manual.createdAt)}`), [
      runs.manual,
      runs.incremental,
      runs.full,
    ]);
    assert.equal(
      (await logs(`/workspaces/${workspace}/sync-logs?status=${'running'}`)).status,
      400,
      'an unknown status is refused',
    );
    assert.equal(incrementalTrace, (await log(runs.incremental)).correlationId);
  });

  it('pages the list with limit and cursor', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof logs>> = await logs(
        `/workspaces/${workspace}/sync-logs?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
      );
      assert.ok(page.body.length <= 3);
      seen.push(...page.body.map((l: any) => l.id));
      cursor = page.headers.get('x-next-cursor');
    } while (cursor);
    assert.deepEqual(seen, [runs.failed, runs.manual, runs.incremental, runs.full]);
    const bad = await logs(`/workspaces/${workspace}/sync-logs?cursor=nonsense`);
    assert.deepEqual([bad.status, bad.body.error], [400, 'Bad Request']);
  });

  it('requires X-API-Key and shows another workspace none of it', async () => {
    const missing = await http(ferry.url, 'GET', `/workspaces/${workspace}/sync-logs`);
    assert.deepEqual(
      [missing.status, missing.body.statusCode, missing.body.error],
      [401, 401, 'Unauthorized'],
    );
    const bearer = await http(ferry.url, 'GET', `/workspaces/${workspace}/sync-logs`, {
      key: ferry.adminKey,
    });
    assert.equal(bearer.status, 401, 'the sync-log API reads X-API-Key only');
    const wrong = await logs(`/workspaces/${workspace}/sync-logs`, 'fy_nope');
    assert.equal(wrong.status, 401);
    assert.equal((await logs(`/workspaces/${workspace}/sync-logs`, keyB)).status, 404);
    assert.equal((await logs(`/workspaces/${workspace}/sync-logs/${runs.full}`, keyB)).status, 404);
    assert.equal((await logs(`/workspaces/${workspaceB}/sync-logs/${runs.full}`, keyB)).status, 404);
    const own = await logs(`/workspaces/${workspaceB}/sync-logs`, keyB);
    assert.deepEqual([own.status, own.body], [200, []]);
    const adminThere = await logs(`/workspaces/${workspaceB}/sync-logs`);
    assert.deepEqual([adminThere.status, adminThere.body], [200, []], 'an admin key reads any workspace');
    assert.equal((await logs(`/workspaces/${workspace}/sync-logs/not-an-id`)).status, 404);
  });
});
