import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createPgDatabase } from '../support/databases.ts';
import { type FerryProcess, http, startFerry } from '../support/ferry.ts';
import { startAll } from '../support/start-all.ts';
import { until } from '../support/until.ts';

// The Celigo Data Loader dialect end to end: every operation of integrator.io's sync API against
// real bulk runs between two PostgreSQL databases, and every error code it documents.

const dayMs = 24 * 60 * 60 * 1000;

describe('Celigo Data Loader dialect', () => {
  let ferry: FerryProcess;
  /** The first server, when the purge test restarted it; stopping it removes the data dir. */
  let firstFerry: FerryProcess | undefined;
  let source: Awaited<ReturnType<typeof createPgDatabase>>;
  let destination: Awaited<ReturnType<typeof createPgDatabase>>;
  let orgA: string;
  let orgB: string;
  let keyB: string;
  const syncs: Record<'pair' | 'checked' | 'big', string> = { pair: '', checked: '', big: '' };
  let pairJob: string;
  let checkedJob: string;

  const call = (method: string, route: string, body?: unknown, key = ferry.adminKey) =>
    http(ferry.url, method, route, { key, body });
  const ok = async (method: string, route: string, body?: unknown) => {
    const res = await call(method, route, body);
    assert.ok(res.status < 300, `${method} ${route}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const errorCode = (res: { body: any }) => res.body.errors[0].code;

  const job = async (id: string) => (await call('GET', `/v1/syncJobs/${id}`)).body;
  const finished = (id: string) =>
    until(
      () => job(id),
      (j) => j.status !== 'running',
      `job ${id}`,
    );
  /** Started means a worker holds the run (not merely queued). */
  const started = (id: string) =>
    until(
      () => job(id),
      (j) => j.startedAt !== undefined,
      `job ${id} start`,
    );

  before(async () => {
    [ferry, source, destination] = await startAll([startFerry(), createPgDatabase(), createPgDatabase()]);
    await source.query(`create table small (id int primary key, qty int not null);
      insert into small select g, g from generate_series(1, 100) g;
      create table events (id int primary key, kind text not null);
      insert into events select g, 'k' || (g % 7) from generate_series(1, 2500) g;
      create table big (id bigint primary key, payload text not null);
      insert into big select g, repeat(md5(g::text), 8) from generate_series(1, 1000000) g`);
    orgA = (await ok('GET', '/api/organizations')).data[0].id;
    orgB = (await ok('POST', '/api/organizations', { name: 'Celigo B' })).data.id;
    const userB = (await ok('POST', `/api/organizations/${orgB}/users`, { email: 'b@example.com' })).data.id;
    keyB = (await ok('POST', `/api/organizations/${orgB}/users/${userB}/keys`)).data.value;
    const connection = async (name: string, db: typeof source) =>
      (await ok('POST', '/api/connections', { name, type: 'postgresql', configuration: db.config })).data.id;
    const [src, dst] = [await connection('src', source), await connection('dst', destination)];
    for (const [name, tables] of [
      ['pair', ['public.small', 'public.events']],
      ['checked', ['public.small']],
      ['big', ['public.big']],
    ] as const) {
      syncs[name] = (
        await ok('POST', '/api/bulk/syncs', {
          name,
          mode: 'snapshot',
          source_connection_id: src,
          destination_connection_id: dst,
          destination_configuration: { schema: name },
          schedule: { frequency: 'manual' },
          schemas: tables,
        })
      ).data.id;
    }
  });

  after(async () => {
    await ferry?.stop();
    await firstFerry?.stop();
    await Promise.all([source?.drop(), destination?.drop()]);
  });

  it('answers 401 with a bare message, as integrator.io does', async () => {
    const missing = await http(ferry.url, 'GET', `/v1/syncs/${syncs.pair}/syncJobs`);
    assert.deepEqual([missing.status, missing.body], [401, { message: 'Unauthorized' }]);
    const wrong = await http(ferry.url, 'GET', `/v1/syncs/${syncs.pair}/syncJobs`, { key: 'fy_nope' });
    assert.deepEqual([wrong.status, wrong.body], [401, { message: 'Bearer Authentication Failed' }]);
  });

  it('answers 204 for the latest jobs of an integration whose syncs never ran', async () => {
    const res = await call('GET', `/v1/integrations/${orgA}/syncJobs/latest`);
    assert.equal(res.status, 204);
  });

  it('runs a sync and reports the job, its family and the rows moved', async () => {
    const run = await call('POST', `/v1/syncs/${syncs.pair}/run`);
    assert.equal(run.status, 200, JSON.stringify(run.body));
    assert.deepEqual(Object.keys(run.body).sort(), ['flowExecutionGroupId', 'syncId']);
    assert.equal(run.body.syncId, syncs.pair);
    pairJob = run.body.flowExecutionGroupId;

    const done = await finished(pairJob);
    assert.equal(done.status, 'completed', JSON.stringify(done));
    assert.equal(done._id, pairJob);
    assert.equal(done._syncId, syncs.pair);
    assert.equal(done._integrationId, orgA);
    assert.equal(done.runType, 'normal');
    assert.equal(done.numTablesSynced, 2);
    assert.equal(done.numLoadedRecords, 2600);
    assert.equal(done.numExtractedRecords, 2600);
    assert.equal(done.numErrors, 0);
    assert.match(done.triggeredBy, /^key:/);
    assert.equal(done.canceledBy, undefined);
    assert.equal(Date.parse(done.purgeAt) - Date.parse(done.endedAt), 30 * dayMs);

    const family = (await call('GET', `/v1/syncJobs/${pairJob}/family`)).body;
    assert.equal(family._id, pairJob);
    assert.equal(family.tables.length, 2);
    for (const table of family.tables) {
      const name = table.tableName.split('.')[1];
      const [moved] = await destination.query(`select count(*)::int as n from pair.${name}`);
      assert.equal(table.numLoadedRecords, moved.n, `${name} counts the rows in the destination`);
      assert.equal(table.numExtractedRecords, moved.n);
      assert.equal(table.status, 'completed');
      assert.match(table._id, /^[0-9a-f]{24}$/);
      assert.ok(table.startedAt && table.endedAt);
    }

    const list = (await call('GET', `/v1/syncs/${syncs.pair}/syncJobs`)).body;
    assert.equal(list.totalCount, 1);
    assert.deepEqual(list.data, [done]);

    const latest = await call('GET', `/v1/integrations/${orgA}/syncJobs/latest`);
    assert.equal(latest.status, 200);
    assert.deepEqual(
      latest.body.map((j: any) => j._id),
      [pairJob],
    );
  });

  it('runs a resync on request', async () => {
    const run = await call('POST', `/v1/syncs/${syncs.pair}/run`, { runType: 'resync' });
    assert.equal(run.status, 200);
    const done = await finished(run.body.flowExecutionGroupId);
    assert.deepEqual([done.status, done.runType], ['completed', 'resync']);
    const list = (await call('GET', `/v1/syncs/${syncs.pair}/syncJobs`)).body;
    assert.deepEqual(
      list.data.map((j: any) => j._id),
      [run.body.flowExecutionGroupId, pairJob],
      'newest first',
    );
  });

  it('lists the errors of a run whose rows the destination rejected', async () => {
    const first = await call('POST', `/v1/syncs/${syncs.checked}/run`);
    assert.equal((await finished(first.body.flowExecutionGroupId)).status, 'completed');
    await destination.query('alter table checked.small add constraint small_qty check (qty < 90) not valid');
    const second = await call('POST', `/v1/syncs/${syncs.checked}/run`);
    checkedJob = second.body.flowExecutionGroupId;
    const done = await finished(checkedJob);
    assert.equal(done.status, 'completed');
    assert.deepEqual([done.numErrors, done.numLoadedRecords, done.numExtractedRecords], [11, 89, 100]);

    const errors = await call('GET', `/v1/syncJobs/${checkedJob}/errors`);
    assert.equal(errors.status, 200);
    assert.equal(errors.headers.get('x-total-count'), '11');
    assert.equal(errors.body.length, 11);
    const [table] = (await call('GET', `/v1/syncJobs/${checkedJob}/family`)).body.tables;
    for (const error of errors.body) {
      assert.match(error.message, /small_qty/);
      assert.equal(error._parentSyncJobId, checkedJob);
      assert.equal(error._childSyncJobId, table._id);
      assert.equal(error.flowExecutionGroupId, checkedJob);
      assert.equal(error._syncId, syncs.checked);
      assert.equal(error.tableName, 'public.small');
      assert.ok(error.occurredAt && error.stage && error.scope && error.code);
    }
    const filtered = await call('GET', `/v1/syncJobs/${checkedJob}/errors?_childJobId=${table._id}`);
    assert.equal(filtered.headers.get('x-total-count'), '11');
    assert.equal(filtered.body.length, 11);
    const unknownChild = await call('GET', `/v1/syncJobs/${checkedJob}/errors?_childJobId=${'0'.repeat(24)}`);
    assert.deepEqual([unknownChild.status, errorCode(unknownChild)], [404, 'invalid_ref']);
    const clean = await call('GET', `/v1/syncJobs/${pairJob}/errors`);
    assert.deepEqual([clean.body, clean.headers.get('x-total-count')], [[], '0']);
  });

  it('refuses a second run while one is queued, and cancels a running job', async () => {
    const run = await call('POST', `/v1/syncs/${syncs.big}/run`);
    const id = run.body.flowExecutionGroupId;
    const again = await call('POST', `/v1/syncs/${syncs.big}/run`);
    assert.deepEqual([again.status, errorCode(again)], [409, 'sync_job_already_queued']);
    await started(id);
    const cancel = await call('PUT', `/v1/syncJobs/${id}/cancel`);
    assert.equal(cancel.status, 204);
    const ended = await finished(id);
    assert.equal(ended.status, 'canceled');
    assert.match(ended.canceledBy, /^key:/);
    const twice = await call('PUT', `/v1/syncJobs/${id}/cancel`);
    assert.deepEqual([twice.status, errorCode(twice)], [403, 'sync_job_not_cancellable']);
    const done = await call('PUT', `/v1/syncJobs/${pairJob}/cancel`);
    assert.deepEqual([done.status, errorCode(done)], [403, 'sync_job_not_cancellable']);
  });

  it('cancels every running job of a sync, and says when there is none', async () => {
    const none = await call('PUT', `/v1/syncs/${syncs.big}/syncJobs/cancel`);
    assert.deepEqual([none.status, errorCode(none)], [404, 'sync_jobs_not_found']);
    const run = await call('POST', `/v1/syncs/${syncs.big}/run`);
    await started(run.body.flowExecutionGroupId);
    const cancel = await call('PUT', `/v1/syncs/${syncs.big}/syncJobs/cancel`);
    assert.equal(cancel.status, 204);
    assert.equal((await finished(run.body.flowExecutionGroupId)).status, 'canceled');
    const [exists] = await destination.query(`select to_regclass('big.big') is not null as present`);
    assert.equal(exists.present, false, 'a canceled run leaves nothing half-written');
  });

  it('refuses to run a disabled sync, a bad runType and an unknown sync', async () => {
    const bad = await call('POST', `/v1/syncs/${syncs.pair}/run`, { runType: 'sometimes' });
    assert.deepEqual(
      [bad.status, errorCode(bad), bad.body.errors[0].field],
      [400, 'invalid_parameter', 'runType'],
    );
    const unknown = await call('POST', `/v1/syncs/${crypto.randomUUID()}/run`);
    assert.deepEqual([unknown.status, errorCode(unknown)], [404, 'invalid_ref']);
    assert.equal(errorCode(await call('GET', `/v1/syncs/not-an-id/syncJobs`)), 'invalid_ref');
    assert.equal(errorCode(await call('GET', `/v1/syncJobs/${crypto.randomUUID()}`)), 'invalid_ref');
    await ok('POST', `/api/bulk/syncs/${syncs.pair}/activate`, { active: false });
    try {
      const disabled = await call('POST', `/v1/syncs/${syncs.pair}/run`);
      assert.deepEqual([disabled.status, errorCode(disabled)], [422, 'invalid_sync']);
    } finally {
      await ok('POST', `/api/bulk/syncs/${syncs.pair}/activate`, { active: true });
    }
  });

  it("shows another organization's key none of it", async () => {
    const asB = (method: string, route: string) => call(method, route, undefined, keyB);
    for (const [method, route] of [
      ['GET', `/v1/syncJobs/${pairJob}`],
      ['GET', `/v1/syncJobs/${pairJob}/family`],
      ['GET', `/v1/syncJobs/${checkedJob}/errors`],
      ['PUT', `/v1/syncJobs/${pairJob}/cancel`],
      ['GET', `/v1/syncs/${syncs.pair}/syncJobs`],
      ['POST', `/v1/syncs/${syncs.pair}/run`],
      ['PUT', `/v1/syncs/${syncs.pair}/syncJobs/cancel`],
    ]) {
      const res = await asB(method!, route!);
      assert.deepEqual([res.status, errorCode(res)], [404, 'invalid_ref'], `${method} ${route}`);
    }
    const foreign = await asB('GET', `/v1/integrations/${orgA}/syncJobs/latest`);
    assert.deepEqual([foreign.status, errorCode(foreign)], [404, 'sync_job_missing_integration']);
    const own = await asB('GET', `/v1/integrations/${orgB}/syncJobs/latest`);
    assert.deepEqual([own.status, errorCode(own)], [404, 'sync_job_invalid_integration_id']);
  });

  it('purges jobs, their logs and their files once their retention has passed', async () => {
    const logDir = path.join(ferry.dataDir, 'logs', checkedJob);
    assert.ok(existsSync(logDir), 'the errors log is on disk');
    const exported = await ok(
      'POST',
      `/api/bulk/syncs/${syncs.checked}/executions/${checkedJob}/logs/export`,
    );
    const archive = await until(
      () => ok('GET', exported.data.url),
      (j) => j.data.status === 'done' || j.data.status === 'failed',
      'the log export',
    );
    const archivePath = path.join(ferry.dataDir, 'exports', archive.data.result.filename);
    assert.ok(existsSync(archivePath), 'the log archive is on disk');
    firstFerry = ferry;
    const exited = new Promise((r) => firstFerry!.child.once('exit', r));
    firstFerry.child.kill('SIGTERM');
    await exited;
    ferry = await startFerry({
      dataDir: firstFerry.dataDir,
      env: { FERRY_API_KEY: firstFerry.adminKey, FERRY_JOB_RETENTION_DAYS: '0' },
    });
    const gone = await call('GET', `/v1/syncJobs/${checkedJob}`);
    assert.deepEqual([gone.status, errorCode(gone)], [404, 'invalid_ref']);
    assert.equal((await call('GET', `/v1/syncs/${syncs.pair}/syncJobs`)).body.totalCount, 0);
    assert.equal(existsSync(logDir), false, 'the record logs left the disk');
    assert.equal(existsSync(archivePath), false, 'so did the log archive');
    const console = await call('GET', `/api/bulk/syncs/${syncs.checked}/executions/${checkedJob}/consolelog`);
    assert.equal(console.status, 404, 'the console log went with the run');
    assert.equal((await call('GET', `/v1/integrations/${orgA}/syncJobs/latest`)).status, 204);
  });
});
