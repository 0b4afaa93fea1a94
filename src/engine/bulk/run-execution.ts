import { randomBytes } from 'node:crypto';
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { SchemaInfo } from '../../connectors/types.ts';
import { FerryError } from '../../domain/errors.ts';
import type { ExecutionStatus } from '../../domain/executions.ts';
import { parseFilter } from '../../domain/filters.ts';
import { appendConsoleLog } from '../../logs/console-log.ts';
import { openRecordLog } from '../../logs/record-log.ts';
import { testRunRowLimit } from '../../services/bulk-executions.ts';
import { outputNameOf } from '../../services/bulk-syncs.ts';
import { openConnectorById, openTableReader, openTableWriter } from '../../services/connections.ts';
import type { Core } from '../../services/context.ts';
import { reportExecutionEnd } from '../../services/events.ts';
import {
  type BulkSyncRow,
  type BulkSyncSchemaRow,
  bulkSyncSchemas,
  bulkSyncs,
  executions,
  schemaExecutions,
} from '../../store/schema.ts';
import { claimExecution, handBackExecution, noShutdown, type RunShutdown } from '../claim-execution.ts';
import type { ColumnSpec, LoadResult, TableReader, TableWriter } from './contracts.ts';
import { copyTable, isRetryable, type Reload } from './copy-table.ts';

/** Attempts per table before it is reported failed (the first try plus retries). */
const tableAttempts = 3;
const watchIntervalMs = 1_000;
/** How long a table's start waits for the source's row estimate; a later answer is still stored. */
const estimateWaitMs = 300;

const defaultNamespace: Record<string, string> = { postgresql: 'public', duckdb: 'main', files: '' };

/**
 * Job handler of `bulksync`: runs every table of one execution, `concurrency_limit` at a time, each
 * loaded atomically. Watches the execution for cancels and heartbeats while it runs.
 */
export async function runBulkExecution(
  core: Core,
  executionId: string,
  shutdown: RunShutdown = noShutdown,
): Promise<{ status: ExecutionStatus }> {
  const db = core.store.db;
  const claimed = await claimExecution(db, executionId);
  if (!claimed) return { status: 'canceled' }; // canceled while queued, or already taken
  // Every process log line of the run carries its trace id, as the console log's first line does.
  const runLog = core.log.child({ executionId, syncId: claimed.syncId, traceId: claimed.traceId });
  const ended = (result: { status: ExecutionStatus }) => {
    runLog.info({ status: result.status }, 'execution ended');
    return result;
  };
  runLog.info({ syncKind: 'bulk', attempt: claimed.attempt }, 'run started');
  const [sync] = await db.select().from(bulkSyncs).where(eq(bulkSyncs.id, claimed.syncId));
  const log = (message: string, level: 'info' | 'warn' | 'error' = 'info', schemaId: string | null = null) =>
    appendConsoleLog(db, { executionId, schemaId, level, message });
  runLog.info({ attempt: claimed.attempt }, 'execution started');
  if (!sync) return ended(await finish(core, executionId, 'failed', 'the bulk sync was deleted'));

  const run = new AbortController();
  const tableControllers = new Map<string, AbortController>();
  const watcher = setInterval(() => {
    void watch(core, executionId, run, tableControllers).catch((error) =>
      runLog.warn({ err: error }, 'execution watch failed'),
    );
  }, watchIntervalMs);

  let reader: TableReader | undefined;
  let writer: TableWriter | undefined;
  try {
    const children = await db
      .select()
      .from(schemaExecutions)
      .where(eq(schemaExecutions.executionId, executionId));
    const schemaRows = await db.select().from(bulkSyncSchemas).where(eq(bulkSyncSchemas.syncId, sync.id));
    const pending = children.filter(
      (child) => !['completed', 'completed_with_errors', 'canceled'].includes(child.status),
    );
    const sourceSchemas = await introspect(
      core,
      sync.sourceConnectionId,
      pending.map((child) => child.schemaId),
    );
    reader = await openTableReader(core, sync.sourceConnectionId);
    const opened = await openTableWriter(core, sync.destinationConnectionId);
    writer = opened.writer;
    const namespace = String(sync.destinationConfiguration.schema ?? defaultNamespace[opened.typeId] ?? '');
    await log(
      `execution started (${claimed.isTest ? 'test' : claimed.isResync ? (claimed.resyncMode ?? 'refetch') : sync.mode}, attempt ${claimed.attempt}): ${children.length} table(s); trace ${claimed.traceId}`,
    );

    const limit = Math.max(1, sync.concurrencyLimit);
    const queue = [...pending];
    const workers = Array.from({ length: Math.min(limit, queue.length) }, async () => {
      for (let child = queue.shift(); child && !shutdown.drain.aborted; child = queue.shift()) {
        const selection = schemaRows.find((row) => row.schemaId === child.schemaId);
        const schema = sourceSchemas.find((s) => s.id === child.schemaId);
        const controller = new AbortController();
        tableControllers.set(child.schemaId, controller);
        const signal = AbortSignal.any([run.signal, controller.signal, shutdown.abort]);
        try {
          if (!selection || !schema)
            throw new FerryError('not_found', `table ${child.schemaId} is no longer in the source`);
          await runTable(core, {
            executionId,
            sync,
            selection,
            schema,
            namespace,
            reader: reader!,
            writer: writer!,
            reload: reloadOf(claimed),
            test: claimed.isTest,
            signal,
            pollCancel: () => watch(core, executionId, run, tableControllers),
            log,
          });
        } catch (error) {
          if (shutdown.abort.aborted && !run.signal.aborted && !controller.signal.aborted) {
            await db
              .update(schemaExecutions)
              .set({ status: 'created', updatedAt: sql`now()` })
              .where(
                and(
                  eq(schemaExecutions.executionId, executionId),
                  eq(schemaExecutions.schemaId, child.schemaId),
                ),
              );
            await log(
              `table ${child.schemaId} stopped by worker shutdown; it runs again`,
              'warn',
              child.schemaId,
            );
            continue;
          }
          const canceled = signal.aborted;
          const message = canceled ? 'canceled' : errorMessage(error);
          await db
            .update(schemaExecutions)
            .set({
              status: canceled ? 'canceled' : 'failed',
              statusMessage: message,
              completedAt: sql`now()`,
              updatedAt: sql`now()`,
            })
            .where(
              and(
                eq(schemaExecutions.executionId, executionId),
                eq(schemaExecutions.schemaId, child.schemaId),
              ),
            );
          await log(
            `table ${child.schemaId} ${canceled ? 'canceled' : `failed: ${message}`}`,
            canceled ? 'warn' : 'error',
            child.schemaId,
          );
          runLog.warn({ schemaId: child.schemaId, canceled, reason: message }, 'table did not complete');
        } finally {
          tableControllers.delete(child.schemaId);
        }
      }
    });
    await Promise.all(workers);
    if (shutdown.drain.aborted && !run.signal.aborted && (await handBack(core, executionId))) {
      await log('worker shut down: execution handed back to the queue; committed tables are kept', 'warn');
      return ended({ status: 'queued' });
    }
    const canceled = run.signal.aborted || (shutdown.drain.aborted && (await isCanceling(core, executionId)));
    return ended(await conclude(core, executionId, canceled));
  } catch (error) {
    await log(`execution failed: ${errorMessage(error)}`, 'error');
    return ended(
      await finish(core, executionId, run.signal.aborted ? 'canceled' : 'failed', errorMessage(error)),
    );
  } finally {
    clearInterval(watcher);
    await reader?.close().catch(() => {});
    await writer?.close().catch(() => {});
  }
}

async function isCanceling(core: Core, executionId: string): Promise<boolean> {
  const [row] = await core.store.db
    .select({ status: executions.status })
    .from(executions)
    .where(eq(executions.id, executionId));
  return row?.status === 'canceling';
}

/**
 * Returns a run with unfinished tables to the queue for another worker. False when every table
 * ended (the run concludes normally) or when the run is no longer ours to hand back.
 */
async function handBack(core: Core, executionId: string): Promise<boolean> {
  const unfinished = await core.store.db
    .select({ schemaId: schemaExecutions.schemaId })
    .from(schemaExecutions)
    .where(
      and(
        eq(schemaExecutions.executionId, executionId),
        inArray(schemaExecutions.status, ['created', 'queued', 'running']),
      ),
    );
  return unfinished.length > 0 && handBackExecution(core, executionId, 'bulksync');
}

interface TableRun {
  executionId: string;
  sync: BulkSyncRow;
  selection: BulkSyncSchemaRow;
  schema: SchemaInfo;
  namespace: string;
  reader: TableReader;
  writer: TableWriter;
  reload: Reload;
  test: boolean;
  signal: AbortSignal;
  /** Looks for a cancel of the run or the table now, rather than at the next poll (aborting `signal`). */
  pollCancel: () => Promise<void>;
  log: (message: string, level?: 'info' | 'warn' | 'error', schemaId?: string | null) => Promise<void>;
}

async function runTable(core: Core, t: TableRun): Promise<void> {
  const db = core.store.db;
  const where = and(
    eq(schemaExecutions.executionId, t.executionId),
    eq(schemaExecutions.schemaId, t.selection.schemaId),
  );
  await db
    .update(schemaExecutions)
    .set({ status: 'running', startedAt: sql`now()`, updatedAt: sql`now()` })
    .where(where);
  const columns = columnsOf(t.schema, t.selection, t.sync.normalizeNames);
  const outputOf = (source: string) => columns.find((c) => c.source === source)?.name ?? source;
  const primaryKey = t.schema.primaryKeys.filter((pk) => columns.some((c) => c.source === pk));
  const cursorField = t.selection.trackingField ?? undefined;
  const partitionKey = columns.find((c) => c.source === t.selection.partitionKey)?.source;
  const schemaId = t.selection.schemaId;
  const filters = t.selection.filters.map((f, i) => parseFilter(f, `filters.${i}`));
  await t.log(
    `table ${schemaId} → ${t.namespace ? `${t.namespace}.` : ''}${t.selection.outputName} started`,
    'info',
    schemaId,
  );

  const recordEstimate = (cap: number) =>
    estimateRows(t.reader, schemaId, cap, (estimatedRecords) =>
      db
        .update(schemaExecutions)
        .set({ estimatedRecords })
        .where(and(where, eq(schemaExecutions.status, 'running'))),
    );

  if (t.test) {
    await recordEstimate(testRunRowLimit);
    const records = await openRecordLog(core.store, core.config.dataDir, {
      executionId: t.executionId,
      schemaId,
      type: 'records',
    });
    let rows = 0;
    try {
      for await (const batch of t.reader.read({
        schemaId,
        columns,
        primaryKey,
        filters,
        limit: testRunRowLimit,
        signal: t.signal,
      })) {
        for (const row of batch)
          await records.write(Object.fromEntries(columns.map((c, i) => [c.name, row[i]])));
        rows += batch.length;
      }
    } finally {
      await records.close();
    }
    await db
      .update(schemaExecutions)
      .set({ status: 'completed', recordCount: rows, completedAt: sql`now()`, updatedAt: sql`now()` })
      .where(where);
    await t.log(`table ${schemaId} test read ${rows} row(s); destination untouched`, 'info', schemaId);
    return;
  }

  let estimated = false;
  let result: LoadResult | undefined;
  for (let attempt = 1; !result; attempt++) {
    const errors = await openRecordLog(core.store, core.config.dataDir, {
      executionId: t.executionId,
      schemaId,
      type: 'errors',
    });
    let progressed = 0;
    let reportedAt = Date.now();
    try {
      result = await copyTable({
        reader: t.reader,
        writer: t.writer,
        target: {
          syncId: t.sync.id,
          schemaId,
          namespace: t.namespace,
          table: t.selection.outputName,
          columns,
          primaryKey: primaryKey.map(outputOf),
          ...(cursorField ? { cursorColumn: outputOf(cursorField) } : {}),
          ...(partitionKey ? { partitionKey: outputOf(partitionKey) } : {}),
        },
        read: { schemaId, columns, primaryKey, filters },
        mode: t.sync.mode,
        reload: t.reload,
        cursorField,
        attemptId: `${randomBytes(3).toString('hex')}${attempt}`,
        signal: t.signal,
        beforeCommit: t.pollCancel,
        // The estimate counts the whole table: a read continuing from a stored cursor has none.
        beforeRead: async ({ full }) => {
          if (estimated || !full) return;
          estimated = true;
          await recordEstimate(Number.POSITIVE_INFINITY);
        },
        onReject: (rejected) =>
          errors.write({
            record: Object.fromEntries(columns.map((c, i) => [c.name, rejected.row[i]])),
            error: rejected.reason,
          }),
        onProgress: (rows) => {
          progressed += rows;
          if (progressed % 100_000 < rows)
            void t.log(`table ${schemaId}: ${progressed} rows read`, 'info', schemaId);
          // The table's count moves while it runs (at most once a second), for status and dashboards.
          if (Date.now() - reportedAt >= 1000) {
            reportedAt = Date.now();
            void db
              .update(schemaExecutions)
              .set({ recordCount: progressed, updatedAt: sql`now()` })
              .where(and(where, eq(schemaExecutions.status, 'running')))
              .catch(() => {});
          }
        },
      });
    } catch (error) {
      if (t.signal.aborted || attempt >= tableAttempts || !isRetryable(error)) throw error;
      await t.log(
        `table ${schemaId} attempt ${attempt} failed (${errorMessage(error)}); retrying`,
        'warn',
        schemaId,
      );
      await db.update(schemaExecutions).set({ attempts: attempt }).where(where);
      await new Promise((resolve) => setTimeout(resolve, 500 * 2 ** attempt));
    } finally {
      await errors.close();
    }
  }
  const status: ExecutionStatus = result.rejected > 0 ? 'completed_with_errors' : 'completed';
  await db
    .update(schemaExecutions)
    .set({
      status,
      recordCount: result.rowsLoaded,
      insertedCount: result.inserted,
      updatedCount: result.updated,
      errorCount: result.rejected,
      completedAt: sql`now()`,
      updatedAt: sql`now()`,
    })
    .where(where);
  await t.log(
    `table ${schemaId} finished: ${result.rowsLoaded} row(s) loaded (${result.inserted} inserted, ${result.updated} updated)` +
      (result.rejected > 0 ? `, ${result.rejected} rejected (see the errors log)` : ''),
    result.rejected > 0 ? 'warn' : 'info',
    schemaId,
  );
}

/**
 * Asks the reader for the table's row estimate and stores it (capped, for runs that read at most
 * `cap` rows). Waits `estimateWaitMs` at most so the copy is never held up; failures are ignored, as
 * the estimate only feeds progress displays.
 */
async function estimateRows(
  reader: TableReader,
  schemaId: string,
  cap: number,
  store: (estimate: number) => PromiseLike<unknown>,
): Promise<void> {
  if (!reader.estimateRows) return;
  const stored = reader
    .estimateRows(schemaId)
    .then((estimate) => (estimate === undefined ? undefined : store(Math.round(Math.min(estimate, cap)))))
    .catch(() => {});
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, estimateWaitMs);
  });
  await Promise.race([stored, waited]);
  clearTimeout(timer);
}

/**
 * What a run re-reads (Polytomic's resync modes): `refetch` (and fetch_mode full) reads every row
 * again and merges it into the tables as they are; `resync` reloads each table whole and swaps it
 * in, keeping its shape; `rebuild` (also what the older `resync: true` means) recreates the table
 * from the source's current columns. fetch_mode `none`/`incremental` is the normal run.
 */
function reloadOf(run: { isResync: boolean; resyncMode: string | null; fetchMode: string | null }): Reload {
  if (run.resyncMode === 'refetch' || (run.fetchMode === 'full' && run.resyncMode === null)) return 'refetch';
  if (run.resyncMode === 'rebuild') return 'rebuild';
  return run.isResync ? 'resync' : 'none';
}

/** Column specs of the selected fields: all of them when the selection names none. */
function columnsOf(schema: SchemaInfo, selection: BulkSyncSchemaRow, normalizeNames: string): ColumnSpec[] {
  const chosen = selection.fields.length
    ? schema.fields.filter((f) => selection.fields.find((c) => c.id === f.name)?.enabled !== false)
    : schema.fields;
  return chosen.map((field) => {
    const config = selection.fields.find((c) => c.id === field.name);
    return {
      source: field.name,
      name: config?.user_output_name ?? config?.output_name ?? outputNameOf(field.name, normalizeNames),
      type: field.logicalType,
      nullable: field.nullable,
    };
  });
}

/**
 * The source's current shape of the run's tables, read from the source itself rather than the
 * connection's schema cache: a column added since the cache was filled is loaded (and added to the
 * destination), and one dropped is no longer read.
 */
async function introspect(core: Core, connectionId: string, schemaIds: string[]): Promise<SchemaInfo[]> {
  return openConnectorById(core, connectionId, async (connector) => {
    const found: SchemaInfo[] = [];
    for (const schemaId of schemaIds) {
      const schema = await connector.getSchema(schemaId);
      if (schema) found.push(schema);
    }
    return found;
  });
}

/** Polls the execution: cancel requests abort the run or one table; each poll is also the heartbeat. */
async function watch(
  core: Core,
  executionId: string,
  run: AbortController,
  tables: Map<string, AbortController>,
) {
  const [row] = await core.store.db
    .update(executions)
    .set({ heartbeatAt: sql`now()` })
    .where(eq(executions.id, executionId))
    .returning({ status: executions.status });
  if (row?.status === 'canceling' || row?.status === 'canceled')
    run.abort(new FerryError('conflict', 'canceled'));
  const canceling = await core.store.db
    .select({ schemaId: schemaExecutions.schemaId })
    .from(schemaExecutions)
    .where(and(eq(schemaExecutions.executionId, executionId), eq(schemaExecutions.status, 'canceling')));
  for (const { schemaId } of canceling) tables.get(schemaId)?.abort(new FerryError('conflict', 'canceled'));
}

async function conclude(core: Core, executionId: string, canceled: boolean) {
  const children = await core.store.db
    .select()
    .from(schemaExecutions)
    .where(eq(schemaExecutions.executionId, executionId));
  const failed = children.filter((c) => c.status === 'failed');
  const canceledTables = children.filter((c) => c.status === 'canceled');
  const rejected = children.reduce((sum, c) => sum + c.errorCount, 0);
  const status: ExecutionStatus = canceled
    ? 'canceled'
    : failed.length > 0
      ? 'failed'
      : rejected > 0
        ? 'completed_with_errors'
        : 'completed';
  const message =
    failed.length > 0
      ? `failed table(s): ${failed.map((f) => `${f.schemaId} (${f.statusMessage})`).join('; ')}`
      : rejected > 0
        ? `${rejected} row(s) rejected by the destination`
        : canceledTables.length > 0 && !canceled
          ? `canceled table(s): ${canceledTables.map((c) => c.schemaId).join(', ')}`
          : null;
  return finish(core, executionId, status, message);
}

async function finish(core: Core, executionId: string, status: ExecutionStatus, message: string | null) {
  const db = core.store.db;
  await db
    .update(schemaExecutions)
    .set({
      status: status === 'canceled' ? 'canceled' : 'failed',
      completedAt: sql`now()`,
      updatedAt: sql`now()`,
    })
    .where(
      and(
        eq(schemaExecutions.executionId, executionId),
        inArray(schemaExecutions.status, ['created', 'queued', 'running', 'canceling']),
      ),
    );
  const [totals] = await db
    .select({
      records: sql<number>`coalesce(sum(${schemaExecutions.recordCount}), 0)::bigint`,
      errors: sql<number>`coalesce(sum(${schemaExecutions.errorCount}), 0)::bigint`,
      warnings: sql<number>`coalesce(sum(${schemaExecutions.warningCount}), 0)::bigint`,
    })
    .from(schemaExecutions)
    .where(eq(schemaExecutions.executionId, executionId));
  await db
    .update(executions)
    .set({
      status,
      statusMessage: message,
      recordCount: Number(totals?.records ?? 0),
      errorCount: Number(totals?.errors ?? 0),
      warningCount: Number(totals?.warnings ?? 0),
      completedAt: sql`now()`,
      updatedAt: sql`now()`,
    })
    .where(eq(executions.id, executionId));
  await appendConsoleLog(db, {
    executionId,
    schemaId: null,
    level: status === 'completed' ? 'info' : status === 'canceled' ? 'warn' : 'error',
    message: `execution ${status.replaceAll('_', ' ')}${message ? `: ${message}` : ''}`,
  });
  await reportExecutionEnd(core, executionId);
  return { status };
}

function errorMessage(error: unknown): string {
  return error instanceof FerryError ? error.message : error instanceof Error ? error.message : String(error);
}
