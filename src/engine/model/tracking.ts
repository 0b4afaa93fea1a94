import { and, eq, lt } from 'drizzle-orm';
import type { Core } from '../../services/context.ts';
import { type ModelRow, type ModelSyncRow, modelSyncs, type TrackingMarks } from '../../store/schema.ts';
import { type ModelConfiguration, trackedModel } from './source.ts';

/**
 * A model's tracking columns (e.g. `updated_at`) say which rows can have changed: those whose value
 * reached the greatest one there was when the sync's previous clean run started (its mark). A run
 * reads only those rows, compares them with the target's state as usual, and its marks become the
 * next run's once it completes with nothing rejected; a failed or killed run leaves the old marks, so
 * the next one reads its rows again (and the state keeps them from being sent twice). Rows without
 * a tracking value are read by full runs only: resyncs, the first run, and any run after the model or
 * the sync was edited. Replace and snapshot modes need the whole model on every run and ignore them.
 */
export interface TrackedRead {
  /** What the run reads when the target already holds state; undefined: the whole model. */
  changed: ModelConfiguration | undefined;
  /** What to save when the run completes cleanly. */
  next: TrackingMarks;
  /** `updated_at ≥ '2026-…'`: what `changed` reads, for the console log. */
  description: string;
}

export async function trackModel(
  core: Core,
  sync: ModelSyncRow,
  model: ModelRow,
  run: { resync: boolean; signal: AbortSignal },
  log: (message: string, level?: 'warn') => Promise<void>,
): Promise<TrackedRead | undefined> {
  const columns = model.trackingColumns;
  if (columns.length === 0 || sync.mode === 'replace' || sync.mode === 'snapshot') return undefined;
  const previous = sync.trackingMarks;
  const current =
    !run.resync &&
    previous?.modelVersion === model.version &&
    previous.columns.join('\0') === columns.join('\0')
      ? previous.marks
      : undefined;
  // The greatest values among the rows to read are the greatest overall, unless a column has none
  // there (all its rows below the mark): that column keeps its mark.
  const tracked = await trackedModel(core, model.connectionId, model, columns, current, run.signal).catch(
    async (error) => {
      if (run.signal.aborted) throw error;
      // A column without an order (json, boolean...) has no greatest value.
      const message = error instanceof Error ? error.message : String(error);
      await log(
        `could not take the tracking columns' greatest values (${message}): the whole model is compared`,
        'warn',
      );
      return null;
    },
  );
  if (tracked === undefined)
    await log(
      'tracking columns are read from PostgreSQL and MySQL sources only: the whole model is compared',
      'warn',
    );
  if (!tracked) return undefined;
  const { changed, maxima } = tracked;
  return {
    changed,
    next: {
      modelVersion: model.version,
      columns,
      marks: maxima.map((mark, i) => mark ?? current?.[i] ?? null),
    },
    description: columns
      .map((column, i) => (current?.[i] == null ? `${column} set` : `${column} ≥ ${current[i]}`))
      .join(' or '),
  };
}

/** Keeps a clean run's marks, unless the sync was edited while it ran (which cleared them). */
export async function saveTrackingMarks(core: Core, sync: ModelSyncRow, marks: TrackingMarks): Promise<void> {
  // `updatedAt` came back in milliseconds; the column holds microseconds.
  const editedAfter = new Date(sync.updatedAt.getTime() + 1);
  await core.store.db
    .update(modelSyncs)
    .set({ trackingMarks: marks })
    .where(and(eq(modelSyncs.id, sync.id), lt(modelSyncs.updatedAt, editedAfter)));
}
