import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openCore } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { recoverOrphanedRuns, recoverySweepMs } from '../../src/runner/recovery.ts';
import type { Schedule } from '../../src/runner/schedule.ts';
import {
  fireDueSchedules,
  nextExecutionTime,
  type ScheduledSync,
  type SchedulingSource,
} from '../../src/runner/scheduler.ts';
import { ensureDefaultOrganization } from '../../src/services/bootstrap.ts';
import type { Core } from '../../src/services/context.ts';
import { createPgDatabase, type PgTestConfig, type TestDatabase } from '../support/databases.ts';

// Recovery of runs whose worker died and the scheduler's once-per-tick rule, on both store kinds.

/** A sync kind whose "runs" are counted, not executed; a sync has an active run until `finish`. */
function fakeSource(syncs: ScheduledSync[]) {
  const started: { syncId: string; item: string | undefined }[] = [];
  const active = new Map<string, string>();
  const source: SchedulingSource = {
    kind: 'bulk',
    listScheduled: async () => syncs,
    async start(_core, sync, item) {
      const running = active.get(sync.syncId);
      if (running) return { executionId: running, created: false };
      const executionId = randomUUID();
      active.set(sync.syncId, executionId);
      started.push({ syncId: sync.syncId, item });
      return { executionId, created: true };
    },
  };
  return { source, started, finish: (syncId: string) => active.delete(syncId) };
}

const scheduled = (schedule: Schedule, since = new Date('2026-03-04T00:00:00Z')): ScheduledSync => ({
  kind: 'bulk',
  syncId: randomUUID(),
  organizationId: randomUUID(),
  key: 'sync',
  schedule,
  since,
});

describe('lost runs', () => {
  it('are found within 60 s of their worker dying with the default settings', () => {
    const timeout = loadConfig({}).heartbeatTimeout;
    // A run heartbeats every second; every worker sweeps for stale heartbeats every recoverySweepMs.
    assert.ok(1_000 + timeout * 1_000 + recoverySweepMs(timeout) <= 60_000);
  });
});

for (const kind of ['embedded', 'postgres'] as const) {
  describe(`runner on the ${kind} store`, () => {
    let core: Core;
    let database: TestDatabase<PgTestConfig> | undefined;
    let dataDir: string;
    let organizationId: string;

    before(async () => {
      dataDir = mkdtempSync(path.join(tmpdir(), 'ferry-runner-'));
      database = kind === 'postgres' ? await createPgDatabase() : undefined;
      core = await openCore({
        ...loadConfig({}),
        dataDir,
        databaseUrl: database?.url,
        logLevel: 'silent',
      });
      await core.queue.start();
      organizationId = await ensureDefaultOrganization(core.store.db);
    });
    after(async () => {
      await core?.queue.stop();
      await core?.store.close();
      await database?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    const insertRun = async (status: string, attempt: number, heartbeatSecondsAgo: number) => {
      const [row] = await core.store.sql.query<{ id: string }>(
        `insert into executions (organization_id, sync_kind, sync_id, status, attempt, heartbeat_at, started_at)
         values ($1, 'bulk', $2, $3, $4, now() - make_interval(secs => $5), now() - interval '1 hour')
         returning id`,
        [organizationId, randomUUID(), status, attempt, heartbeatSecondsAgo],
      );
      return row!.id;
    };
    const runRow = async (id: string) =>
      (
        await core.store.sql.query<{ status: string; job_id: string | null; status_message: string }>(
          'select status, job_id, status_message from executions where id = $1',
          [id],
        )
      )[0]!;

    it('re-queues runs with a stale heartbeat and ends those past the retry limit', async () => {
      const lost = await insertRun('running', 1, 120);
      const alive = await insertRun('running', 1, 5);
      const exhausted = await insertRun('running', 3, 120);
      const canceling = await insertRun('canceling', 1, 120);
      // A table loading when the run was asked to cancel (the run cancels, not the table).
      for (const id of [exhausted, canceling])
        await core.store.sql.query(
          `insert into schema_executions (execution_id, schema_id, output_name, status) values ($1, 'public.t', 't', 'running')`,
          [id],
        );

      assert.equal(await recoverOrphanedRuns(core, 60), 1);
      const requeued = await runRow(lost);
      assert.equal(requeued.status, 'queued');
      assert.ok(requeued.job_id, 'a new job carries the retry');
      assert.equal((await runRow(alive)).status, 'running', 'a live heartbeat keeps the run');
      const ended = await runRow(exhausted);
      assert.equal(ended.status, 'interrupted');
      assert.match(ended.status_message, /retry limit/);
      assert.equal((await runRow(canceling)).status, 'canceled');
      const tableStatus = async (id: string) =>
        (
          await core.store.sql.query<{ status: string }>(
            'select status from schema_executions where execution_id = $1',
            [id],
          )
        )[0]!.status;
      // The tables end as their run did: a canceled run's table is canceled, not interrupted.
      assert.equal(await tableStatus(canceling), 'canceled');
      assert.equal(await tableStatus(exhausted), 'interrupted');

      const events = await core.store.sql.query<{ type: string; execution_id: string }>(
        'select type, execution_id from events where execution_id = any($1) order by type',
        [[exhausted, canceling]],
      );
      assert.deepEqual(
        events.map((e) => [e.type, e.execution_id]),
        [
          ['bulk_sync.canceled', canceling],
          ['bulk_sync.failed', exhausted],
        ],
      );
      // Each recovered run's console log says what happened to it; the live run's says nothing.
      const lines = await core.store.sql.query<{ execution_id: string; level: string; message: string }>(
        'select execution_id, level, message from console_logs where execution_id = any($1)',
        [[lost, alive, exhausted, canceling]],
      );
      const lineOf = (id: string) => lines.filter((line) => line.execution_id === id);
      assert.equal(lineOf(alive).length, 0);
      assert.deepEqual(
        lineOf(lost).map((line) => line.level),
        ['warn'],
      );
      assert.match(lineOf(lost)[0]!.message, /worker stopped .*attempt 1 of 3.*queued again/);
      assert.match(lineOf(exhausted)[0]!.message, /^execution interrupted: .*attempt 3 of 3/);
      assert.equal(lineOf(exhausted)[0]!.level, 'error');
      assert.match(lineOf(canceling)[0]!.message, /^execution canceled: /);
      assert.equal(await recoverOrphanedRuns(core, 60), 0, 'recovery is idempotent');
      assert.equal(
        (
          await core.store.sql.query('select 1 from console_logs where execution_id = any($1)', [
            [lost, alive, exhausted, canceling],
          ])
        ).length,
        3,
        'a second sweep logs nothing more',
      );
    });

    it('fires a clock tick once however many schedulers race for it, and not before the schedule existed', async () => {
      const everyHour = scheduled({ frequency: 'hourly', minute: '0' });
      const created = scheduled({ frequency: 'hourly', minute: '0' }, new Date('2026-03-04T10:01:00Z'));
      const { source, started } = fakeSource([everyHour, created]);
      const now = new Date('2026-03-04T10:02:00Z');
      const fired = await Promise.all(Array.from({ length: 5 }, () => fireDueSchedules(core, [source], now)));
      assert.equal(
        fired.reduce((a, b) => a + b, 0),
        1,
      );
      assert.deepEqual(
        started.map((s) => s.syncId),
        [everyHour.syncId],
      );
      // The next tick fires again; a schedule created after 10:00 waits for 11:00.
      await fireDueSchedules(core, [source], new Date('2026-03-04T11:00:30Z'));
      assert.equal(started.filter((s) => s.syncId === created.syncId).length, 1);
    });

    it('skips a tick while the sync still runs, and records it', async () => {
      const sync = scheduled({ frequency: 'custom', minute: '*/5', timezone: 'Europe/Paris' });
      const { source, started, finish } = fakeSource([sync]);
      await fireDueSchedules(core, [source], new Date('2026-03-04T10:05:10Z'));
      await fireDueSchedules(core, [source], new Date('2026-03-04T10:10:10Z'));
      assert.equal(started.length, 1, 'the 10:10 tick found the 10:05 run still active');
      const fires = await core.store.sql.query<{ started: boolean }>(
        'select started from schedule_fires where sync_id = $1 order by due_at',
        [sync.syncId],
      );
      assert.deepEqual(
        fires.map((f) => f.started),
        [true, false],
      );
      finish(sync.syncId);
      await fireDueSchedules(core, [source], new Date('2026-03-04T10:15:10Z'));
      assert.equal(started.length, 2);
    });

    it('runs continuous syncs back to back and multi schedules per item', async () => {
      const continuous = scheduled({ frequency: 'continuous' });
      const multi = scheduled({
        frequency: 'multi',
        multi: {
          schedules: [
            { item: 'incrementalFields', schedule: { frequency: 'hourly', minute: '15' } },
            { item: 'nonincrementalFields', schedule: { frequency: 'daily', hour: '10', minute: '18' } },
          ],
        },
      });
      const { source, started, finish } = fakeSource([continuous, multi]);
      const now = new Date('2026-03-04T10:16:00Z');
      await fireDueSchedules(core, [source], now);
      assert.deepEqual(
        started.map((s) => [s.syncId, s.item]),
        [
          [continuous.syncId, undefined],
          [multi.syncId, 'incrementalFields'],
        ],
      );
      await fireDueSchedules(core, [source], now);
      assert.equal(started.length, 2, 'a continuous sync does not start over its own run');
      finish(continuous.syncId);
      finish(multi.syncId);
      await fireDueSchedules(core, [source], new Date('2026-03-04T10:19:00Z'));
      assert.deepEqual(
        started.slice(2).map((s) => [s.syncId, s.item]),
        [
          [continuous.syncId, undefined],
          [multi.syncId, 'nonincrementalFields'],
        ],
        'the daily entry of the multi schedule fires on its own key',
      );
    });

    it('holds a continuous sync back after failed runs and reports when it starts again', async () => {
      const sync = scheduled({ frequency: 'continuous' });
      const { source, started, finish } = fakeSource([sync]);
      const ended = (status: string, at: string) =>
        core.store.sql.query(
          `insert into executions (organization_id, sync_kind, sync_id, status, created_at, started_at, completed_at)
           values ($1, 'bulk', $2, $3, $4, $4, $4)`,
          [organizationId, sync.syncId, status, at],
        );
      const next = async (now: string) =>
        (await nextExecutionTime(core, sync.syncId, [sync.schedule], new Date(now)))?.toISOString() ?? null;
      await ended('failed', '2026-03-04T10:00:00Z');
      await ended('failed', '2026-03-04T10:01:00Z');
      // Two failures in a row: the third run waits twice the continuous interval after the last one.
      assert.equal(await fireDueSchedules(core, [source], new Date('2026-03-04T10:01:05Z')), 0);
      assert.equal(await next('2026-03-04T10:01:05Z'), '2026-03-04T10:01:10.000Z');
      assert.equal(await fireDueSchedules(core, [source], new Date('2026-03-04T10:01:10Z')), 1);
      assert.equal(await next('2026-03-04T10:01:10Z'), null, 'once the pause is over it runs back to back');
      finish(sync.syncId);
      await ended('completed', '2026-03-04T10:02:00Z');
      assert.equal(
        await fireDueSchedules(core, [source], new Date('2026-03-04T10:02:01Z')),
        1,
        'a completed run lifts the pause',
      );
      assert.equal(started.length, 2);
    });

    it('starts a runafter sync once per completed run of the syncs it follows', async () => {
      const upstream = randomUUID();
      // A sync of the organization whose runs it follows: another organization's never start it.
      const follower = {
        ...scheduled({ frequency: 'runafter', run_after: { bulk_sync_ids: [upstream] } }, new Date()),
        organizationId,
      };
      const { source, started, finish } = fakeSource([follower]);
      const complete = () =>
        core.store.sql.query(
          `insert into executions (organization_id, sync_kind, sync_id, status, completed_at)
           values ($1, 'bulk', $2, 'completed', now())`,
          [organizationId, upstream],
        );
      assert.equal(await fireDueSchedules(core, [source]), 0, 'nothing completed yet');
      await complete();
      assert.equal(await fireDueSchedules(core, [source]), 1);
      finish(follower.syncId);
      assert.equal(await fireDueSchedules(core, [source]), 0, 'the same completion fires once');
      await new Promise((resolve) => setTimeout(resolve, 10));
      await complete();
      assert.equal(await fireDueSchedules(core, [source]), 1);
      assert.equal(started.length, 2);
    });
  });
}
