import { eq } from 'drizzle-orm';
import type { RecordLogType } from '../../domain/executions.ts';
import { openRecordLog, type RecordLogWriter } from '../../logs/record-log.ts';
import type { Core } from '../../services/context.ts';
import { executions, modelExecutionDetails } from '../../store/schema.ts';

/** Distinct error messages kept on the execution (the errors log has every record). */
const maxErrorMessages = 10;

/** What a model sync execution did so far. */
export interface Counts {
  total: number;
  inserted: number;
  updated: number;
  deleted: number;
  errors: number;
  warnings: number;
  messages: string[];
}

export const emptyCounts = (): Counts => ({
  total: 0,
  inserted: 0,
  updated: 0,
  deleted: 0,
  errors: 0,
  warnings: 0,
  messages: [],
});

/** Counts a rejected record; its reason becomes one of the execution's error messages. */
export function countRejected(counts: Counts, reason: string): void {
  counts.errors++;
  if (counts.messages.length < maxErrorMessages && !counts.messages.includes(reason))
    counts.messages.push(reason);
}

/** Saves the counts on the execution, so that it shows progress while it runs. */
export async function saveCounts(core: Core, executionId: string, counts: Counts): Promise<void> {
  await core.store.db
    .update(modelExecutionDetails)
    .set({
      inserted: counts.inserted,
      updated: counts.updated,
      deleted: counts.deleted,
      upserted: counts.inserted + counts.updated,
      errors: counts.messages,
    })
    .where(eq(modelExecutionDetails.executionId, executionId));
  await core.store.db
    .update(executions)
    .set({ recordCount: counts.total, errorCount: counts.errors, warningCount: counts.warnings })
    .where(eq(executions.id, executionId));
}

export async function openLogs<T extends RecordLogType>(core: Core, executionId: string, types: T[]) {
  const writers = await Promise.all(
    types.map((type) => openRecordLog(core.store, core.config.dataDir, { executionId, type })),
  );
  return Object.fromEntries(types.map((type, i) => [type, writers[i]!])) as Record<T, RecordLogWriter>;
}
