import { setTimeout as sleep } from 'node:timers/promises';
import { runBulkExecution } from '../engine/bulk/run-execution.ts';
import { runModelExecution } from '../engine/model/run-execution.ts';
import { runQuery, runSchemaRefresh } from '../services/connections.ts';
import type { Core } from '../services/context.ts';
import { runLogExport } from '../services/execution-logs.ts';
import { purgeExpiredRuns } from '../services/run-purge.ts';
import { deliverWebhook } from '../services/webhooks.ts';
import { jobTypes } from './queue.ts';
import { recoverOrphanedRuns, recoverySweepMs } from './recovery.ts';

const purgeIntervalMs = 10 * 60_000;

export interface WorkerOptions {
  /** Runs of each sync kind this process executes at the same time (other job types keep their own limits). */
  concurrency?: number;
}

export interface Workers {
  /**
   * Graceful stop: takes no new jobs, lets running tables and model batches commit for up to
   * `graceMs`, then stops the work still in flight and hands its runs back to the queue. Resolves
   * once every handler returned.
   */
  stop(graceMs?: number): Promise<void>;
}

/** After the grace period, how long stopped tables get to discard their attempt and hand back. */
const abortWindowMs = 5_000;

/** Starts consuming every job type in this process: `ferry worker`, or the in-process worker of `ferry serve`. */
export async function startWorkers(core: Core, options: WorkerOptions = {}): Promise<Workers> {
  const drain = new AbortController();
  const abort = new AbortController();
  const running = new Set<Promise<unknown>>();
  const track = <T>(work: Promise<T>): Promise<T> => {
    running.add(work);
    void work.finally(() => running.delete(work)).catch(() => {});
    return work;
  };

  // The embedded store has a single process: whatever was running when it stopped has no worker.
  // Before this process takes jobs, or the runs it has just claimed would look orphaned too.
  await recoverOrphanedRuns(core, core.store.kind === 'embedded' ? 0 : undefined);
  await core.queue.work('schemarefresh', (data) => runSchemaRefresh(core, String(data.connectionId)));
  await core.queue.work('query', (data) => runQuery(core, String(data.connectionId), String(data.query)));
  const shutdown = { drain: drain.signal, abort: abort.signal };
  const runs = options.concurrency === undefined ? {} : { concurrency: options.concurrency };
  await core.queue.work(
    'bulksync',
    (data) => track(runBulkExecution(core, String(data.executionId), shutdown)),
    runs,
  );
  await core.queue.work(
    'modelsync',
    (data) => track(runModelExecution(core, String(data.executionId), shutdown)),
    runs,
  );
  await core.queue.work('exportlogs', (data) =>
    runLogExport(core, String(data.executionId), data.notify === true),
  );
  await core.queue.work('webhook', (data, job) =>
    deliverWebhook(core, String(data.deliveryId), job.lastAttempt),
  );

  const timer = setInterval(() => {
    recoverOrphanedRuns(core).catch((error) => core.log.warn({ err: error }, 'run recovery failed'));
  }, recoverySweepMs(core.config.heartbeatTimeout));
  // Runs past their retention (FERRY_JOB_RETENTION_DAYS) are deleted at start-up and then periodically.
  const purge = () =>
    purgeExpiredRuns(core).catch((error) => core.log.warn({ err: error }, 'run purge failed'));
  await purge();
  const purgeTimer = setInterval(purge, purgeIntervalMs);

  let stopping: Promise<void> | undefined;
  return {
    stop(graceMs = 10_000) {
      stopping ??= (async () => {
        clearInterval(timer);
        clearInterval(purgeTimer);
        await Promise.all(jobTypes.map((type) => core.queue.stopWorking(type)));
        drain.abort();
        core.log.info({ runs: running.size, graceMs }, 'stopped taking jobs; letting running tables commit');
        const settled = () => Promise.allSettled([...running]);
        if (running.size > 0) await Promise.race([settled(), sleep(graceMs)]);
        if (running.size > 0) {
          core.log.info({ runs: running.size }, 'grace period over: stopping tables and handing runs back');
          abort.abort();
          await Promise.race([settled(), sleep(abortWindowMs)]);
        }
      })();
      return stopping;
    },
  };
}
