import { eq, sql } from 'drizzle-orm';
import { FerryError } from '../../domain/errors.ts';
import type { ExecutionStatus } from '../../domain/executions.ts';
import { appendConsoleLog } from '../../logs/console-log.ts';
import type { Core } from '../../services/context.ts';
import { reportExecutionEnd } from '../../services/events.ts';
import { executions, type ModelRow, modelExecutionDetails, modelSyncs, models } from '../../store/schema.ts';
import { claimExecution, handBackExecution, noShutdown, type RunShutdown } from '../claim-execution.ts';
import { compilePlan, hashed, type SyncPlan } from './plan.ts';
import { type Counts, emptyCounts, openLogs, saveCounts } from './run-counts.ts';
import { readModel } from './source.ts';
import { syncRun } from './sync-run.ts';
import { saveTrackingMarks, trackModel } from './tracking.ts';

/** Records a test run maps into its records log; the target is not touched. */
export const testRunRecordLimit = 100;
const watchIntervalMs = 1_000;

type Level = 'info' | 'warn' | 'error';

/**
 * Job handler of `modelsync`: reads the model, maps and filters its rows, and sends the target only
 * the records whose content hash differs from the one the target last received (all of them on a
 * resync). Watches the execution for cancels and heartbeats while it runs. A worker shutting down
 * hands the run back after the batch in flight (see `RunShutdown`).
 */
export async function runModelExecution(
  core: Core,
  executionId: string,
  shutdown: RunShutdown = noShutdown,
): Promise<{ status: ExecutionStatus }> {
  const db = core.store.db;
  const claimed = await claimExecution(db, executionId);
  if (!claimed) return { status: 'canceled' }; // canceled while queued, or already taken
  const log = (message: string, level: Level = 'info') =>
    appendConsoleLog(db, { executionId, level, message });
  const [sync] = await db.select().from(modelSyncs).where(eq(modelSyncs.id, claimed.syncId));
  const [model] = sync ? await db.select().from(models).where(eq(models.id, sync.modelId)) : [];
  const counts = emptyCounts();
  if (!sync || !model)
    return finish(core, executionId, 'failed', 'the sync or its model was deleted', counts);

  const run = new AbortController();
  const signal = AbortSignal.any([run.signal, shutdown.abort]);
  const watcher = setInterval(() => {
    void watch(core, executionId, run).catch((error) =>
      core.log.warn({ err: error, executionId }, 'execution watch failed'),
    );
  }, watchIntervalMs);
  const handBack = async () => {
    if (!(await handBackExecution(core, executionId, 'modelsync'))) return undefined;
    await log('worker shut down: execution handed back to the queue; committed batches are kept', 'warn');
    return { status: 'queued' as const };
  };
  try {
    const plan = compilePlan(sync, model.fields);
    await log(
      `execution started (${claimed.isTest ? 'test' : claimed.isResync ? `${sync.mode}, resync` : sync.mode}, attempt ${claimed.attempt}): model "${model.name}" → ${sync.targetObject}`,
    );
    if (claimed.isTest) {
      await testRun(core, executionId, model, plan, signal, counts);
      await log(`test run mapped ${counts.total} record(s); the target was not touched`);
      return await finish(core, executionId, 'completed', null, counts);
    }
    const [details] = await db
      .select({
        identities: modelExecutionDetails.identities,
        stateForgotten: modelExecutionDetails.stateForgotten,
      })
      .from(modelExecutionDetails)
      .where(eq(modelExecutionDetails.executionId, executionId));
    // The hashes were delivered to the sync's previous target: a new one gets every record.
    const target = `${sync.targetConnectionId}/${sync.targetObject}`;
    const retargeted = sync.stateTarget !== null && sync.stateTarget !== target;
    if (retargeted) await log(`the target changed since the last run: sending every record`);
    const resync = claimed.isResync || sync.syncAllRecords || retargeted;
    const only = details?.identities ? new Set(details.identities) : undefined;
    // A run over chosen identities says nothing of the others' tracking values.
    const tracked = only ? undefined : await trackModel(core, sync, model, { resync, signal }, log);
    const finished = await syncRun(core, {
      executionId,
      sync,
      model,
      plan,
      resync,
      only,
      stateForgotten: details?.stateForgotten ?? false,
      tracked,
      signal,
      drain: shutdown.drain,
      counts,
      log,
    });
    // Stopped for a shutdown: back to the queue, unless a cancel arrived meanwhile.
    if (!finished) return (await handBack()) ?? (await finish(core, executionId, 'canceled', null, counts));
    const status: ExecutionStatus = counts.errors > 0 ? 'completed_with_errors' : 'completed';
    // Rejected records must be read again: their marks are not passed.
    if (tracked && status === 'completed') await saveTrackingMarks(core, sync, tracked.next);
    if (!only && sync.stateTarget !== target) {
      await db.update(modelSyncs).set({ stateTarget: target }).where(eq(modelSyncs.id, sync.id));
    }
    return await finish(
      core,
      executionId,
      status,
      counts.errors > 0 ? `${counts.errors} record(s) rejected` : null,
      counts,
    );
  } catch (error) {
    if (shutdown.abort.aborted && !run.signal.aborted) {
      const handed = await handBack();
      if (handed) return handed;
    }
    const canceled = signal.aborted;
    const message = canceled ? 'canceled' : errorMessage(error);
    // `finish` logs the end with its reason.
    return finish(core, executionId, canceled ? 'canceled' : 'failed', canceled ? null : message, counts);
  } finally {
    clearInterval(watcher);
  }
}

async function testRun(
  core: Core,
  executionId: string,
  model: ModelRow,
  plan: SyncPlan,
  signal: AbortSignal,
  counts: Counts,
): Promise<void> {
  const logs = await openLogs(core, executionId, ['records']);
  // As a run would: a record without identity, or repeating one, is a warning and is not sent.
  const seen = new Set<string>();
  try {
    for await (const rows of readModel(core, model.connectionId, model.configuration, model.fields, signal)) {
      for (const row of rows) {
        const mapped = plan.map(row);
        if (mapped.kind === 'filtered') continue;
        if (mapped.kind === 'no_identity') {
          counts.warnings++;
          continue;
        }
        const { identity } = hashed(mapped.record);
        if (seen.has(identity)) {
          counts.warnings++;
          continue;
        }
        seen.add(identity);
        await logs.records.write(
          Object.fromEntries(plan.columns.map((c, j) => [c, mapped.record.values[j] ?? null])),
        );
        if (++counts.total >= testRunRecordLimit) return;
      }
    }
  } finally {
    await logs.records.close();
  }
}

/** Polls the execution: a cancel request aborts the run; each poll is also the heartbeat. */
async function watch(core: Core, executionId: string, run: AbortController) {
  const [row] = await core.store.db
    .update(executions)
    .set({ heartbeatAt: sql`now()` })
    .where(eq(executions.id, executionId))
    .returning({ status: executions.status });
  if (row?.status === 'canceling' || row?.status === 'canceled')
    run.abort(new FerryError('conflict', 'canceled'));
}

async function finish(
  core: Core,
  executionId: string,
  status: ExecutionStatus,
  message: string | null,
  counts: Counts,
) {
  if (message && status === 'failed' && !counts.messages.includes(message)) counts.messages.push(message);
  await saveCounts(core, executionId, counts);
  await core.store.db
    .update(executions)
    .set({ status, statusMessage: message, completedAt: sql`now()`, updatedAt: sql`now()` })
    .where(eq(executions.id, executionId));
  await appendConsoleLog(core.store.db, {
    executionId,
    level:
      status === 'completed'
        ? 'info'
        : status === 'canceled' || status === 'completed_with_errors'
          ? 'warn'
          : 'error',
    message: `execution ${status.replaceAll('_', ' ')}${message ? `: ${message}` : ''}`,
  });
  await reportExecutionEnd(core, executionId);
  return { status };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
