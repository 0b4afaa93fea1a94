import { runBulkExecution } from '../engine/bulk/run-execution.ts';
import { runModelExecution } from '../engine/model/run-execution.ts';
import { runQuery, runSchemaRefresh } from '../services/connections.ts';
import type { Core } from '../services/context.ts';
import { runLogExport } from '../services/execution-logs.ts';
import { purgeExpiredRuns } from '../services/run-purge.ts';
import { recoverOrphanedRuns } from './recovery.ts';

const recoveryIntervalMs = 15_000;
const purgeIntervalMs = 10 * 60_000;

/** Starts consuming every job type in this process: the in-process worker of `ferry serve`. */
export async function startWorkers(core: Core): Promise<() => void> {
  await core.queue.work('schemarefresh', (data) => runSchemaRefresh(core, String(data.connectionId)));
  await core.queue.work('query', (data) => runQuery(core, String(data.connectionId), String(data.query)));
  await core.queue.work('bulksync', (data) => runBulkExecution(core, String(data.executionId)));
  await core.queue.work('modelsync', (data) => runModelExecution(core, String(data.executionId)));
  await core.queue.work('exportlogs', (data) =>
    runLogExport(core, String(data.executionId), data.notify === true),
  );
  // The embedded store has a single process: whatever was running when it stopped has no worker.
  await recoverOrphanedRuns(core, core.store.kind === 'embedded' ? 0 : undefined);
  const timer = setInterval(() => {
    recoverOrphanedRuns(core).catch((error) => core.log.warn({ err: error }, 'run recovery failed'));
  }, recoveryIntervalMs);
  // Runs past their retention (FERRY_JOB_RETENTION_DAYS) are deleted at start-up and then periodically.
  const purge = () =>
    purgeExpiredRuns(core).catch((error) => core.log.warn({ err: error }, 'run purge failed'));
  await purge();
  const purgeTimer = setInterval(purge, purgeIntervalMs);
  return () => {
    clearInterval(timer);
    clearInterval(purgeTimer);
  };
}
