import { eq } from 'drizzle-orm';
import { FerryError } from '../domain/errors.ts';
import { readConsoleLog } from '../logs/console-log.ts';
import { buildLogArchive } from '../logs/export.ts';
import { listRecordLogs, signRecordLogUrl } from '../logs/record-log.ts';
import { executions } from '../store/schema.ts';
import { getBulkExecution } from './bulk-executions.ts';
import type { Actor, Core } from './context.ts';
import { logsExportedEvent, recordEvent } from './events.ts';

/** Signed download links stay valid this long. */
const linkLifetimeMs = 60 * 60 * 1000;

export async function bulkConsoleLog(
  core: Core,
  actor: Actor,
  ids: { syncId: string; executionId: string; schemaId?: string | undefined },
  page: { limit?: number | undefined; after?: string | undefined },
) {
  const execution = await getBulkExecution(core, actor, ids.syncId, ids.executionId);
  if (ids.schemaId && !execution.schemas.some((s) => s.schemaId === ids.schemaId)) {
    throw new FerryError('not_found', `table ${ids.schemaId} is not part of execution ${ids.executionId}`);
  }
  return readConsoleLog(core.store.db, { executionId: ids.executionId, schemaId: ids.schemaId, ...page });
}

/** The record log files of a run with signed, expiring download URLs served by Ferry. */
export async function bulkRecordLogs(core: Core, actor: Actor, syncId: string, executionId: string) {
  await getBulkExecution(core, actor, syncId, executionId);
  const expiresAt = new Date(Date.now() + linkLifetimeMs);
  const files = await listRecordLogs(core.store.db, executionId);
  return {
    expiresAt,
    files: files.map((file) => ({
      ...file,
      url: signRecordLogUrl(core.signingKey, { executionId, filename: file.filename, expiresAt }),
    })),
  };
}

/** Starts the asynchronous export of every log of a run as one archive (job `exportlogs`). */
export async function exportBulkLogs(
  core: Core,
  actor: Actor,
  syncId: string,
  executionId: string,
  notify: boolean,
) {
  const execution = await getBulkExecution(core, actor, syncId, executionId);
  return core.queue.enqueue('exportlogs', { organizationId: execution.organizationId, executionId, notify });
}

/** Job handler of `exportlogs`. */
export async function runLogExport(core: Core, executionId: string, notify: boolean) {
  const archive = await buildLogArchive(core.store, core.config.dataDir, executionId);
  const expiresAt = new Date(Date.now() + 24 * linkLifetimeMs);
  const url = signRecordLogUrl(core.signingKey, { executionId, filename: archive.filename, expiresAt });
  const result = {
    url,
    filename: archive.filename,
    bytes: archive.bytes,
    expires: expiresAt.toISOString(),
    notified: notify,
  };
  if (notify) {
    const [run] = await core.store.db.select().from(executions).where(eq(executions.id, executionId));
    if (run) {
      await recordEvent(core, {
        organizationId: run.organizationId,
        type: logsExportedEvent,
        syncKind: run.syncKind,
        syncId: run.syncId,
        // Not keyed by the run: each export of the same run is an event of its own.
        payload: {
          execution_id: executionId,
          sync_id: run.syncId,
          organization_id: run.organizationId,
          ...result,
        },
      });
    }
  }
  return result;
}
