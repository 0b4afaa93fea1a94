import { and, eq, inArray } from 'drizzle-orm';
import { FerryError } from '../domain/errors.ts';
import type { Schedule } from '../runner/schedule.ts';
import { bulkSyncs, modelSyncs } from '../store/schema.ts';
import type { Core } from './context.ts';

/**
 * The syncs a `runafter` schedule (or an entry of a `multi` one) follows are syncs of the organization:
 * with an unknown id (or another organization's) the sync would never run, or run on another's runs.
 */
export async function checkRunAfter(
  core: Core,
  organizationId: string,
  schedule: Schedule,
  field = 'schedule',
) {
  if (schedule.frequency === 'multi') {
    for (const [i, entry] of (schedule.multi?.schedules ?? []).entries()) {
      await checkRunAfter(core, organizationId, entry.schedule, `${field}.multi.schedules.${i}.schedule`);
    }
    return;
  }
  if (schedule.frequency !== 'runafter') return;
  const db = core.store.db;
  const ofOrganization = async (
    key: 'sync_ids' | 'bulk_sync_ids',
    find: (ids: string[]) => Promise<{ id: string }[]>,
  ) => {
    const ids = schedule.run_after?.[key] ?? [];
    if (ids.length === 0) return;
    const found = new Set((await find(ids)).map((row) => row.id));
    const missing = ids.findIndex((id) => !found.has(id));
    if (missing !== -1) {
      const kind = key === 'sync_ids' ? 'model sync' : 'bulk sync';
      throw new FerryError(
        'validation_failed',
        `${field}.run_after.${key}: ${kind} ${ids[missing]} not found`,
        {
          field: `${field}.run_after.${key}.${missing}`,
        },
      );
    }
  };
  await ofOrganization('sync_ids', (ids) =>
    db
      .select({ id: modelSyncs.id })
      .from(modelSyncs)
      .where(and(inArray(modelSyncs.id, ids), eq(modelSyncs.organizationId, organizationId))),
  );
  await ofOrganization('bulk_sync_ids', (ids) =>
    db
      .select({ id: bulkSyncs.id })
      .from(bulkSyncs)
      .where(and(inArray(bulkSyncs.id, ids), eq(bulkSyncs.organizationId, organizationId))),
  );
}
