import { eq, sql } from 'drizzle-orm';
import { FerryError } from '../../domain/errors.ts';
import type { ExecutionStatus, RecordLogType } from '../../domain/executions.ts';
import { appendConsoleLog } from '../../logs/console-log.ts';
import { openRecordLog, type RecordLogWriter } from '../../logs/record-log.ts';
import type { Core } from '../../services/context.ts';
import { reportExecutionEnd } from '../../services/events.ts';
import {
  executions,
  type ModelRow,
  type ModelSyncRow,
  modelExecutionDetails,
  modelSyncs,
  models,
} from '../../store/schema.ts';
import { claimExecution, handBackExecution, noShutdown, type RunShutdown } from '../claim-execution.ts';
import { compilePlan, type MappedRecord, type SyncPlan } from './plan.ts';
import { readModel } from './source.ts';
import type { ApplyResult } from './targets/batch.ts';
import { type ModelTarget, openModelTarget } from './targets.ts';

/** Marks an identity seen in the current run (never a content hash). */
const SEEN = '';
/** Changed records sent to the target per atomic batch. */
export const applyBatchSize = 5_000;
/** Records a test run maps into its records log; the target is not touched. */
export const testRunRecordLimit = 100;
/** Distinct error messages kept on the execution (the errors log has every record). */
const maxErrorMessages = 10;
const watchIntervalMs = 1_000;

type Level = 'info' | 'warn' | 'error';

interface Counts {
  total: number;
  inserted: number;
  updated: number;
  deleted: number;
  errors: number;
  warnings: number;
  messages: string[];
}

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
  const counts: Counts = {
    total: 0,
    inserted: 0,
    updated: 0,
    deleted: 0,
    errors: 0,
    warnings: 0,
    messages: [],
  };
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
      .select({ identities: modelExecutionDetails.identities })
      .from(modelExecutionDetails)
      .where(eq(modelExecutionDetails.executionId, executionId));
    const finished = await syncRun(core, {
      executionId,
      sync,
      model,
      plan,
      resync: claimed.isResync || sync.syncAllRecords,
      only: details?.identities ? new Set(details.identities) : undefined,
      signal,
      drain: shutdown.drain,
      counts,
      log,
    });
    // Stopped for a shutdown: back to the queue, unless a cancel arrived meanwhile.
    if (!finished) return (await handBack()) ?? (await finish(core, executionId, 'canceled', null, counts));
    const status: ExecutionStatus = counts.errors > 0 ? 'completed_with_errors' : 'completed';
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
    if (!canceled) await log(`execution failed: ${message}`, 'error');
    return finish(core, executionId, canceled ? 'canceled' : 'failed', canceled ? null : message, counts);
  } finally {
    clearInterval(watcher);
  }
}

interface SyncRun {
  executionId: string;
  sync: ModelSyncRow;
  model: ModelRow;
  plan: SyncPlan;
  resync: boolean;
  /** Only these identities, sent whether they changed or not. */
  only: Set<string> | undefined;
  signal: AbortSignal;
  /** Once aborted, the run stops after the batch in flight; a snapshot, one transaction, goes on. */
  drain: AbortSignal;
  counts: Counts;
  log: (message: string, level?: Level) => Promise<void>;
}

/** Sends the run's records; false when it stopped early for a worker shutdown (see `SyncRun.drain`). */
async function syncRun(core: Core, r: SyncRun): Promise<boolean> {
  const { sync, plan, counts } = r;
  const logs = await openLogs(core, r.executionId, ['inserts', 'updates', 'deletes', 'errors', 'warnings']);
  let target: ModelTarget | undefined;
  try {
    target = await openModelTarget(core, sync.targetConnectionId, {
      syncId: sync.id,
      object: sync.targetObject,
      mode: sync.mode,
      columns: plan.columns,
      identityIndex: plan.identityIndex,
      signal: r.signal,
    });
    // Hash last delivered per identity; an identity seen in this run is marked `SEEN` (one map for
    // both, to hold memory to one entry per identity). Unmarked at the end: gone from the model.
    const state = await target.loadState();
    const known = state.size;
    await target.begin();
    let identities = 0;
    const everything = r.resync || r.only !== undefined || sync.mode === 'snapshot';
    let pending: MappedRecord[] = [];
    let read = 0;
    const recordOf = (values: (string | null)[]) =>
      Object.fromEntries(plan.columns.map((column, j) => [column, values[j] ?? null]));
    const warn = (values: (string | null)[], warning: string) => {
      counts.warnings++;
      return logs.warnings.write({ record: recordOf(values), warning });
    };
    const flush = async () => {
      if (pending.length === 0) return;
      const batch = pending;
      pending = [];
      const result = await target!.apply(batch);
      await record(core, r.executionId, result, batch.length, counts, logs, recordOf);
    };

    for await (const rows of readModel(
      core,
      r.model.connectionId,
      r.model.configuration,
      r.model.fields,
      r.signal,
    )) {
      if (r.drain.aborted && sync.mode !== 'snapshot') {
        await flush();
        return false;
      }
      read += rows.length;
      for (const row of rows) {
        const mapped = plan.map(row);
        if (mapped.kind === 'filtered') continue;
        if (mapped.kind === 'no_identity') {
          await warn(mapped.values, 'the identity field is empty; the record was not sent');
          continue;
        }
        const { record: rec } = mapped;
        if (r.only && !r.only.has(rec.identity)) continue;
        const previous = state.get(rec.identity);
        if (previous === SEEN) {
          await warn(rec.values, `duplicate identity ${rec.identity}: only its first record was sent`);
          continue;
        }
        state.set(rec.identity, SEEN);
        identities++;
        if (!everything && previous === rec.hash) continue;
        pending.push(rec);
        if (pending.length >= applyBatchSize) await flush();
      }
    }
    await flush();
    // A run over some identities says nothing about the others: replace prunes only after full runs.
    let unseen: string[] | undefined;
    if (sync.mode === 'replace' && !r.only) {
      unseen = [];
      for (const [identity, hash] of state) if (hash !== SEEN) unseen.push(identity);
    }
    const removed = await target.finish(unseen);
    counts.deleted += removed;
    await r.log(
      `read ${read} row(s), ${identities} identit${identities === 1 ? 'y' : 'ies'} (${known} known before); sent ${counts.total}: ` +
        `${counts.inserted} inserted, ${counts.updated} updated, ${counts.deleted} deleted, ${counts.errors} rejected, ${counts.warnings} warning(s)`,
      counts.errors > 0 ? 'warn' : 'info',
    );
    return true;
  } finally {
    await target?.close().catch(() => {});
    await Promise.all(Object.values(logs).map((w) => w.close()));
  }
}

/** Counts and logs what a batch did, and saves the counts so the execution shows progress. */
async function record(
  core: Core,
  executionId: string,
  result: ApplyResult,
  sent: number,
  counts: Counts,
  logs: Record<'inserts' | 'updates' | 'deletes' | 'errors', RecordLogWriter>,
  recordOf: (values: (string | null)[]) => Record<string, string | null>,
) {
  counts.total += sent;
  counts.inserted += result.inserted.length;
  counts.updated += result.updated.length;
  counts.deleted += result.deleted.length;
  counts.errors += result.rejected.length;
  for (const r of result.inserted) await logs.inserts.write(recordOf(r.values));
  for (const r of result.updated) await logs.updates.write(recordOf(r.values));
  for (const r of result.deleted) await logs.deletes.write(recordOf(r.values));
  for (const { record: rec, reason } of result.rejected) {
    await logs.errors.write({ record: recordOf(rec.values), error: reason });
    if (counts.messages.length < maxErrorMessages && !counts.messages.includes(reason))
      counts.messages.push(reason);
  }
  await saveCounts(core, executionId, counts);
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
  try {
    for await (const rows of readModel(core, model.connectionId, model.configuration, model.fields, signal)) {
      for (const row of rows) {
        const mapped = plan.map(row);
        if (mapped.kind !== 'record') continue;
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

async function openLogs<T extends RecordLogType>(core: Core, executionId: string, types: T[]) {
  const writers = await Promise.all(
    types.map((type) => openRecordLog(core.store, core.config.dataDir, { executionId, type })),
  );
  return Object.fromEntries(types.map((type, i) => [type, writers[i]!])) as Record<T, RecordLogWriter>;
}

async function saveCounts(core: Core, executionId: string, counts: Counts): Promise<void> {
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
