import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { and, inArray, isNotNull, lt } from 'drizzle-orm';
import { terminalStatuses } from '../domain/executions.ts';
import { exportsDir, recordLogDir } from '../logs/record-log.ts';
import { executions } from '../store/schema.ts';
import type { Core } from './context.ts';

const dayMs = 24 * 60 * 60 * 1000;
/** Runs deleted per statement, so a large backlog never holds one long transaction. */
const purgeBatch = 500;

/**
 * When a run is purged: `retentionDays` after it ended. A run still going has no end yet; until it
 * ends, its purge time counts from its creation.
 */
export function purgeAt(run: { completedAt: Date | null; createdAt: Date }, retentionDays: number): Date {
  return new Date((run.completedAt ?? run.createdAt).getTime() + retentionDays * dayMs);
}

/**
 * Deletes the ended runs whose retention has passed: their rows (tables, console logs and record
 * log rows go with them by cascade), their record log files and their log archives on disk.
 * Returns how many runs it deleted.
 */
export async function purgeExpiredRuns(core: Core, now = new Date()): Promise<number> {
  const cutoff = new Date(now.getTime() - core.config.jobRetentionDays * dayMs);
  const expired = and(
    isNotNull(executions.completedAt),
    lt(executions.completedAt, cutoff),
    inArray(executions.status, [...terminalStatuses]),
  );
  let purged = 0;
  for (;;) {
    const batch = core.store.db
      .select({ id: executions.id })
      .from(executions)
      .where(expired)
      .limit(purgeBatch);
    const deleted = await core.store.db
      .delete(executions)
      .where(inArray(executions.id, batch))
      .returning({ id: executions.id });
    if (deleted.length === 0) break;
    await removeFiles(
      core.config.dataDir,
      deleted.map((row) => row.id),
    );
    purged += deleted.length;
    if (deleted.length < purgeBatch) break;
  }
  if (purged > 0)
    core.log.info({ purged, retentionDays: core.config.jobRetentionDays }, 'purged expired runs');
  return purged;
}

async function removeFiles(dataDir: string, executionIds: string[]): Promise<void> {
  await Promise.all(
    executionIds.map((id) => rm(recordLogDir(dataDir, id), { recursive: true, force: true })),
  );
  const archives = await readdir(exportsDir(dataDir)).catch(() => [] as string[]);
  const ids = new Set(executionIds);
  await Promise.all(
    archives
      .filter((file) => ids.has(file.slice(0, 36)))
      .map((file) => rm(path.join(exportsDir(dataDir), file), { force: true })),
  );
}
