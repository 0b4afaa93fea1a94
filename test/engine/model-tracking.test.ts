import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { saveTrackingMarks } from '../../src/engine/model/tracking.ts';
import type { Core } from '../../src/services/context.ts';
import type { Store } from '../../src/store/database.ts';
import { migrate } from '../../src/store/migrate.ts';
import { connections, type ModelSyncRow, modelSyncs, models, organizations } from '../../src/store/schema.ts';
import { storeKinds } from '../store/stores.ts';

// Where the tracking marks of a clean run are kept, on both kinds of store (the timestamps of one
// come back in milliseconds, of the other as they are).

const marks = { modelVersion: 1, columns: ['updated_at'], marks: ['2026-01-01 00:00:00.123456+00'] };

for (const kind of storeKinds) {
  describe(`tracking marks (${kind.kind} store)`, () => {
    let store: Store;
    let dispose: (() => Promise<void>) | undefined;
    let core: Core;
    let sync: ModelSyncRow;
    const saved = async () =>
      (await store.db.select().from(modelSyncs).where(eq(modelSyncs.id, sync.id)))[0]!.trackingMarks;

    before(async () => {
      const opened = await kind.open();
      ({ store, dispose } = opened);
      await migrate(store);
      core = { store } as Core;
      const [org] = await store.db.insert(organizations).values({ name: 'tracking' }).returning();
      const organizationId = org!.id;
      const [connection] = await store.db
        .insert(connections)
        .values({ organizationId, name: 'src', type: 'postgresql' })
        .returning();
      const [model] = await store.db
        .insert(models)
        .values({ organizationId, connectionId: connection!.id, name: 'm', configuration: { table: 't' } })
        .returning();
      [sync] = (await store.db
        .insert(modelSyncs)
        .values({
          organizationId,
          name: 's',
          modelId: model!.id,
          targetConnectionId: connection!.id,
          targetObject: 't',
          mode: 'updateOrCreate',
          schedule: { frequency: 'manual' },
          // Microseconds, as every `now()` has.
          updatedAt: sql`timestamptz '2026-01-01 00:00:00.123456+00'`,
        })
        .returning()) as [ModelSyncRow];
    });
    after(async () => {
      await store?.close();
      await dispose?.();
    });

    it('saves the marks of a run over the sync as it is', async () => {
      await saveTrackingMarks(core, sync, marks);
      assert.deepEqual(await saved(), marks);
    });

    it('does not save them over a sync edited while the run went on', async () => {
      await store.db.update(modelSyncs).set({ trackingMarks: null, updatedAt: sql`now()` });
      await saveTrackingMarks(core, sync, marks);
      assert.equal(await saved(), null);
    });
  });
}
