import { and, eq, isNotNull, isNull } from 'drizzle-orm';
import type { Schedule } from '../runner/schedule.ts';
import type { ScheduledSync, SchedulingSource } from '../runner/scheduler.ts';
import { bulkSyncSchedules, bulkSyncSchemas, bulkSyncs } from '../store/schema.ts';
import { startBulkExecution } from './bulk-executions.ts';
import type { Core } from './context.ts';
import { schedulerActor } from './scheduler-actor.ts';

const idle = new Set(['manual', 'dbtcloud']);

/** Bulk syncs to the scheduler: the sync's own `schedule` and the rows of its `schedules` sub-resource. */
export const bulkScheduling: SchedulingSource = {
  kind: 'bulk',
  async listScheduled(core) {
    const db = core.store.db;
    const own = await db.select().from(bulkSyncs).where(eq(bulkSyncs.active, true));
    const extra = await db
      .select({ sync: bulkSyncs, schedule: bulkSyncSchedules })
      .from(bulkSyncSchedules)
      .innerJoin(bulkSyncs, eq(bulkSyncs.id, bulkSyncSchedules.syncId))
      .where(eq(bulkSyncs.active, true));
    const scheduled: ScheduledSync[] = [
      ...own.map((sync) => ({
        kind: 'bulk' as const,
        syncId: sync.id,
        organizationId: sync.organizationId,
        key: 'sync',
        schedule: sync.schedule as unknown as Schedule,
        since: sync.updatedAt,
      })),
      ...extra.map(({ sync, schedule }) => ({
        kind: 'bulk' as const,
        syncId: sync.id,
        organizationId: sync.organizationId,
        key: schedule.id,
        schedule: schedule.schedule as unknown as Schedule,
        since: new Date(Math.max(+schedule.updatedAt, +sync.updatedAt)),
      })),
    ];
    return scheduled.filter((s) => !idle.has(s.schedule.frequency));
  },

  async start(core, sync, item) {
    const schemas = item && item !== 'none' ? await tablesOf(core, sync.syncId, item) : undefined;
    const { execution, created } = await startBulkExecution(
      core,
      schedulerActor(sync.organizationId),
      sync.syncId,
      {
        type: 'scheduled',
        ...(schemas ? { schemas } : {}),
      },
    );
    return { executionId: execution.id, created };
  },
};

/** Tables of a `multi` schedule item: those with an incremental cursor, or those without. */
async function tablesOf(core: Core, syncId: string, item: string): Promise<string[]> {
  const rows = await core.store.db
    .select({ schemaId: bulkSyncSchemas.schemaId })
    .from(bulkSyncSchemas)
    .where(
      and(
        eq(bulkSyncSchemas.syncId, syncId),
        eq(bulkSyncSchemas.enabled, true),
        item === 'incrementalFields'
          ? isNotNull(bulkSyncSchemas.trackingField)
          : isNull(bulkSyncSchemas.trackingField),
      ),
    );
  return rows.map((row) => row.schemaId);
}
