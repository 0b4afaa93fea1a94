import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openCore } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { FerryError } from '../../src/domain/errors.ts';
import { continuousIntervalMs } from '../../src/runner/schedule.ts';
import { fireDueSchedules } from '../../src/runner/scheduler.ts';
import { ensureDefaultOrganization } from '../../src/services/bootstrap.ts';
import { bulkSyncStatus } from '../../src/services/bulk-executions.ts';
import { bulkScheduling } from '../../src/services/bulk-scheduling.ts';
import { createBulkSyncSchedule, updateBulkSyncSchedule } from '../../src/services/bulk-syncs.ts';
import type { Actor, Core } from '../../src/services/context.ts';
import { createPgDatabase, type PgTestConfig, type TestDatabase } from '../support/databases.ts';

// Bulk syncs under the scheduler, on both store kinds: the real scheduling source creates real
// queued runs (no worker takes them here; the tests end them by hand).

for (const kind of ['embedded', 'postgres'] as const) {
  describe(`bulk sync schedules on the ${kind} store`, () => {
    let core: Core;
    let database: TestDatabase<PgTestConfig> | undefined;
    let dataDir: string;
    let actor: Actor;
    let connectionId: string;

    before(async () => {
      dataDir = mkdtempSync(path.join(tmpdir(), 'ferry-bulk-schedules-'));
      database = kind === 'postgres' ? await createPgDatabase() : undefined;
      core = await openCore({ ...loadConfig({}), dataDir, databaseUrl: database?.url, logLevel: 'silent' });
      await core.queue.start();
      const organizationId = await ensureDefaultOrganization(core.store.db);
      actor = { keyId: 'test', organizationId, userId: null, isAdmin: false };
      const [connection] = await core.store.sql.query<{ id: string }>(
        `insert into connections (organization_id, name, type) values ($1, 'warehouse', 'postgresql') returning id`,
        [organizationId],
      );
      connectionId = connection!.id;
    });
    after(async () => {
      await core?.queue.stop();
      await core?.store.close();
      await database?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    /** A bulk sync of one table, stored as the API stores it; `since` is when its schedules last changed. */
    const bulkSync = async (schedule: Record<string, unknown>, since: string) => {
      const [row] = await core.store.sql.query<{ id: string }>(
        `insert into bulk_syncs (organization_id, name, source_connection_id, destination_connection_id, mode, schedule, updated_at)
         values ($1, 'orders', $2, $2, 'snapshot', $3, $4) returning id`,
        [actor.organizationId, connectionId, JSON.stringify(schedule), since],
      );
      await core.store.sql.query(
        `insert into bulk_sync_schemas (sync_id, schema_id, output_name) values ($1, 'public.orders', 'orders')`,
        [row!.id],
      );
      return row!.id;
    };
    const runsOf = (syncId: string) =>
      core.store.sql.query<{ id: string; status: string; type: string }>(
        `select id, status, type from executions where sync_id = $1 order by created_at`,
        [syncId],
      );

    it('fires a row of the schedules sub-resource on its own key, next to the sync schedule', async () => {
      const since = '2026-03-04T00:00:00Z';
      const syncId = await bulkSync({ frequency: 'daily', hour: '10', minute: '0' }, since);
      const [row] = await core.store.sql.query<{ id: string }>(
        `insert into bulk_sync_schedules (sync_id, schedule, updated_at) values ($1, $2, $3) returning id`,
        [syncId, JSON.stringify({ frequency: 'hourly', minute: '30' }), since],
      );
      // 09:31: the sub-resource's 09:30 tick is due, the sync's own 10:00 is not.
      await fireDueSchedules(core, [bulkScheduling], new Date('2026-03-04T09:31:00Z'));
      const runs = await runsOf(syncId);
      assert.deepEqual(
        runs.map((run) => [run.status, run.type]),
        [['queued', 'scheduled']],
      );
      const fires = await core.store.sql.query<{ schedule_key: string }>(
        'select schedule_key from schedule_fires where sync_id = $1',
        [syncId],
      );
      assert.deepEqual(
        fires.map((fire) => fire.schedule_key),
        [row!.id],
      );
    });

    it('refuses a schedules row that runs after a sync the organization does not have', async () => {
      const syncId = await bulkSync({ frequency: 'manual' }, '2026-03-04T00:00:00Z');
      const stranger = {
        frequency: 'runafter',
        run_after: { sync_ids: ['00000000-0000-4000-8000-00000000dead'] },
      };
      const refused = (error: unknown) => {
        assert.ok(error instanceof FerryError);
        assert.equal(error.field, 'schedule.run_after.sync_ids.0');
        return true;
      };
      await assert.rejects(createBulkSyncSchedule(core, actor, syncId, stranger), refused);
      const row = await createBulkSyncSchedule(core, actor, syncId, {
        frequency: 'runafter',
        run_after: { bulk_sync_ids: [syncId] },
      });
      await assert.rejects(updateBulkSyncSchedule(core, actor, syncId, row.id, stranger), refused);
    });

    it('holds a continuous sync back after a failed run; its status says when it starts again', async () => {
      const syncId = await bulkSync({ frequency: 'continuous' }, '2026-03-04T00:00:00Z');
      await fireDueSchedules(core, [bulkScheduling]);
      const [first] = await runsOf(syncId);
      const [failed] = await core.store.sql.query<{ completed_at: Date }>(
        `update executions set status = 'failed', started_at = now(), completed_at = now() where id = $1
         returning completed_at`,
        [first!.id],
      );
      await fireDueSchedules(core, [bulkScheduling]);
      assert.equal((await runsOf(syncId)).length, 1, 'no run right after the failure');
      const status = await bulkSyncStatus(core, actor, syncId);
      assert.equal(
        status.nextExecutionTime?.toISOString(),
        new Date(failed!.completed_at.getTime() + continuousIntervalMs).toISOString(),
      );
      await fireDueSchedules(
        core,
        [bulkScheduling],
        new Date(failed!.completed_at.getTime() + continuousIntervalMs),
      );
      assert.equal((await runsOf(syncId)).length, 2, 'the next run once the pause is over');
    });
  });
}
