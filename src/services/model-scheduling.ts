import { eq } from 'drizzle-orm';
import type { Schedule } from '../runner/schedule.ts';
import type { SchedulingSource } from '../runner/scheduler.ts';
import { modelSyncs } from '../store/schema.ts';
import { startModelExecution } from './model-executions.ts';
import { schedulerActor } from './scheduler-actor.ts';

/** Schedules that never fire on their own: runs start from the API (or an external trigger). */
const idle = new Set(['manual', 'dbtcloud']);

/**
 * Model syncs to the scheduler: each active sync's one `schedule`. A `multi` schedule's entries all
 * start a full run (a model sync has no tables to pick by `item`); a `runafter` schedule follows
 * completed runs of model and bulk syncs alike, since both kinds' runs are rows of `executions`.
 */
export const modelScheduling: SchedulingSource = {
  kind: 'model',
  async listScheduled(core) {
    const rows = await core.store.db.select().from(modelSyncs).where(eq(modelSyncs.active, true));
    return rows
      .map((sync) => ({
        kind: 'model' as const,
        syncId: sync.id,
        organizationId: sync.organizationId,
        key: 'sync',
        schedule: sync.schedule as unknown as Schedule,
        since: sync.updatedAt,
      }))
      .filter((s) => !idle.has(s.schedule.frequency));
  },

  async start(core, sync) {
    const { execution, created } = await startModelExecution(
      core,
      schedulerActor(sync.organizationId),
      sync.syncId,
      { type: 'scheduled' },
    );
    return { executionId: execution.id, created };
  },
};
