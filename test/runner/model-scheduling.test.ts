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
import type { Core } from '../../src/services/context.ts';
import { modelSyncStatus } from '../../src/services/model-executions.ts';
import { modelScheduling } from '../../src/services/model-scheduling.ts';
import { createModelSync, updateModelSync } from '../../src/services/model-syncs.ts';
import { createPgDatabase, type PgTestConfig, type TestDatabase } from '../support/databases.ts';

// Model syncs under the scheduler, on both store kinds: the real scheduling source creates real
// queued runs (no worker takes them here; the tests end them by hand).

for (const kind of ['embedded', 'postgres'] as const) {
  describe(`model sync schedules on the ${kind} store`, () => {
    let core: Core;
    let database: TestDatabase<PgTestConfig> | undefined;
    let dataDir: string;
    let organizationId: string;
    let modelId: string;
    let connectionId: string;

    before(async () => {
      dataDir = mkdtempSync(path.join(tmpdir(), 'ferry-model-schedules-'));
      database = kind === 'postgres' ? await createPgDatabase() : undefined;
      core = await openCore({ ...loadConfig({}), dataDir, databaseUrl: database?.url, logLevel: 'silent' });
      await core.queue.start();
      organizationId = await ensureDefaultOrganization(core.store.db);
      const [connection] = await core.store.sql.query<{ id: string }>(
        `insert into connections (organization_id, name, type) values ($1, 'warehouse', 'postgresql') returning id`,
        [organizationId],
      );
      connectionId = connection!.id;
      const [model] = await core.store.sql.query<{ id: string }>(
        `insert into models (organization_id, connection_id, name, configuration)
         values ($1, $2, 'people', '{"table": "people"}') returning id`,
        [organizationId, connectionId],
      );
      modelId = model!.id;
    });
    after(async () => {
      await core?.queue.stop();
      await core?.store.close();
      await database?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    /** A model sync stored as the API stores it once validated; its `updated_at` is the schedule's start. */
    const modelSync = async (schedule: Record<string, unknown>) => {
      const [row] = await core.store.sql.query<{ id: string }>(
        `insert into model_syncs (organization_id, name, model_id, target_connection_id, target_object, mode, schedule)
         values ($1, 'people out', $2, $3, 'public.people', 'create', $4) returning id`,
        [organizationId, modelId, connectionId, JSON.stringify(schedule)],
      );
      return row!.id;
    };
    const runsOf = (syncId: string) =>
      core.store.sql.query<{ id: string; status: string; type: string }>(
        `select id, status, type from executions where sync_id = $1 and sync_kind = 'model' order by created_at`,
        [syncId],
      );
    const complete = (executionId: string, status = 'completed') =>
      core.store.sql.query(
        `update executions set status = $2, started_at = now(), completed_at = now() where id = $1`,
        [executionId, status],
      );
    const fire = () => fireDueSchedules(core, [modelScheduling], new Date(Date.now() + 61_000));

    it('fires a clock tick of a model sync once however many schedulers race for it', async () => {
      const syncId = await modelSync({ frequency: 'custom', minute: '*', timezone: 'Asia/Kolkata' });
      const manual = await modelSync({ frequency: 'manual' });
      await Promise.all(Array.from({ length: 5 }, fire));
      const runs = await runsOf(syncId);
      assert.equal(runs.length, 1, 'one run for the tick');
      assert.deepEqual([runs[0]!.status, runs[0]!.type], ['queued', 'scheduled']);
      await fire();
      assert.equal((await runsOf(syncId)).length, 1, 'the claimed tick does not fire again');
      assert.equal((await runsOf(manual)).length, 0, 'a manual sync never fires on its own');
      await complete(runs[0]!.id);
    });

    it('chains runafter model syncs, after a model or a bulk sync, once per upstream completion', async () => {
      const upstream = await modelSync({ frequency: 'manual' });
      const second = await modelSync({ frequency: 'runafter', run_after: { sync_ids: [upstream] } });
      const third = await modelSync({
        frequency: 'runafter',
        run_after: { sync_ids: [second] },
        run_after_success_only: true,
      });
      const [upstreamRun] = await core.store.sql.query<{ id: string }>(
        `insert into executions (organization_id, sync_kind, sync_id, status, type)
         values ($1, 'model', $2, 'running', 'manual') returning id`,
        [organizationId, upstream],
      );
      await fire();
      assert.equal((await runsOf(second)).length, 0, 'nothing completed yet');

      await complete(upstreamRun!.id);
      await Promise.all([fire(), fire()]);
      const [secondRun] = await runsOf(second);
      assert.ok(secondRun, 'the upstream completion started the next sync');
      assert.equal((await runsOf(third)).length, 0);

      await complete(secondRun.id, 'completed_with_errors');
      await fire();
      assert.equal((await runsOf(third)).length, 0, 'success-only does not follow a run with errors');
      assert.equal((await runsOf(second)).length, 1, 'one upstream completion starts one run');

      const bulkSync = '00000000-0000-4000-8000-00000000b01c';
      const afterBulk = await modelSync({ frequency: 'runafter', run_after: { bulk_sync_ids: [bulkSync] } });
      // Completed after the sync was created: the embedded store's clock can give both the same instant.
      await core.store.sql.query(
        `insert into executions (organization_id, sync_kind, sync_id, status, completed_at)
         values ($1, 'bulk', $2, 'completed', now() + interval '1 millisecond')`,
        [organizationId, bulkSync],
      );
      await fire();
      assert.equal((await runsOf(afterBulk)).length, 1, 'a completed bulk run starts a model sync');

      // A schedule saved before its ids were checked may name another organization's sync: that
      // organization's runs never start it.
      const [other] = await core.store.sql.query<{ id: string }>(
        `insert into organizations (name) values ('other') returning id`,
      );
      const [stranger] = await core.store.sql.query<{ id: string }>(
        `insert into model_syncs (organization_id, name, model_id, target_connection_id, target_object, mode, schedule)
         values ($1, 'not theirs', $2, $3, 'public.people', 'create', $4) returning id`,
        [
          other!.id,
          modelId,
          connectionId,
          JSON.stringify({ frequency: 'runafter', run_after: { sync_ids: [upstream] } }),
        ],
      );
      await core.store.sql.query(
        `insert into executions (organization_id, sync_kind, sync_id, status, completed_at)
         values ($1, 'model', $2, 'completed', now() + interval '1 millisecond')`,
        [organizationId, upstream],
      );
      await fire();
      assert.equal(
        (await runsOf(second)).length,
        2,
        "the upstream completion starts its own organization's sync",
      );
      assert.equal((await runsOf(stranger!.id)).length, 0, "and not another organization's");
    });

    it('holds a continuous model sync back after failed runs; its status says when it starts again', async () => {
      const actor = { keyId: 'test', organizationId, userId: null, isAdmin: false };
      const syncId = await modelSync({ frequency: 'continuous' });
      const failNext = async () => {
        await fireDueSchedules(core, [modelScheduling], new Date(Date.now() + 3_600_000));
        const runs = await runsOf(syncId);
        const [row] = await core.store.sql.query<{ completed_at: Date }>(
          `update executions set status = 'failed', started_at = now(), completed_at = now() where id = $1
           returning completed_at`,
          [runs.at(-1)!.id],
        );
        return row!.completed_at;
      };
      await failNext();
      const ended = await failNext();
      await fireDueSchedules(core, [modelScheduling]);
      assert.equal((await runsOf(syncId)).length, 2, 'no run right after the second failure');
      const pause = 2 * continuousIntervalMs;
      const status = await modelSyncStatus(core, actor, syncId);
      assert.equal(status.nextExecutionTime?.toISOString(), new Date(ended.getTime() + pause).toISOString());
      await fireDueSchedules(core, [modelScheduling], new Date(ended.getTime() + pause));
      assert.equal((await runsOf(syncId)).length, 3, 'the next run once the pause is over');
    });

    it('rejects a bad schedule on create and update with the field at fault', async () => {
      const actor = { keyId: 'test', organizationId, userId: null, isAdmin: true };
      const input = {
        name: 'bad',
        mode: 'create' as const,
        target: { connectionId, object: 'public.people' },
        fields: [],
      };
      const cases: [Record<string, unknown>, string][] = [
        [{ frequency: 'daily', hour: '9', timezone: 'Nowhere/City' }, 'schedule.timezone'],
        [{ frequency: 'runafter' }, 'schedule.run_after'],
        [{ frequency: 'custom', minute: '61' }, 'schedule'],
        [{ frequency: 'multi', multi: { schedules: [] } }, 'schedule.multi.schedules'],
        // Syncs to run after that the organization does not have: the sync would never run.
        [
          { frequency: 'runafter', run_after: { sync_ids: ['00000000-0000-4000-8000-00000000dead'] } },
          'schedule.run_after.sync_ids.0',
        ],
        [
          {
            frequency: 'multi',
            multi: {
              schedules: [
                { schedule: { frequency: 'daily', hour: '9' } },
                {
                  schedule: {
                    frequency: 'runafter',
                    run_after: { bulk_sync_ids: ['00000000-0000-4000-8000-00000000dead'] },
                  },
                },
              ],
            },
          },
          'schedule.multi.schedules.1.schedule.run_after.bulk_sync_ids.0',
        ],
      ];
      for (const [schedule, field] of cases) {
        for (const save of [
          () => createModelSync(core, actor, { ...input, schedule }),
          async () =>
            updateModelSync(core, actor, await modelSync({ frequency: 'manual' }), { ...input, schedule }),
        ]) {
          await assert.rejects(save, (error: unknown) => {
            assert.ok(error instanceof FerryError);
            assert.equal(error.code, 'validation_failed');
            assert.equal(error.field, field);
            return true;
          });
        }
      }
    });
  });
}
