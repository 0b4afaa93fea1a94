import { Readable } from 'node:stream';
import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import { FerryError, notFound } from '../domain/errors.ts';
import { activeStatuses, isTerminal, type RecordLogType, terminalStatuses } from '../domain/executions.ts';
import { readConsoleLog } from '../logs/console-log.ts';
import { listRecordLogs, openRecordLogFile, signRecordLogUrl } from '../logs/record-log.ts';
import type { Schedule } from '../runner/schedule.ts';
import { nextExecutionTime } from '../runner/scheduler.ts';
import { isUniqueViolation } from '../store/errors.ts';
import {
  type ExecutionRow,
  executions,
  type ModelExecutionDetailsRow,
  modelExecutionDetails,
} from '../store/schema.ts';
import type { Actor, Core } from './context.ts';
import { reportExecutionEnd } from './events.ts';
import { decodePageToken, encodePageToken, getModelSync } from './model-syncs.ts';

export interface ModelExecutionDetail extends ExecutionRow {
  counts: ModelExecutionDetailsRow;
}

/** Signed download links stay valid this long. */
const linkLifetimeMs = 60 * 60 * 1000;
export const maxExecutionPage = 50;

const zeroCounts = (executionId: string): ModelExecutionDetailsRow => ({
  executionId,
  inserted: 0,
  updated: 0,
  deleted: 0,
  upserted: 0,
  errors: [],
  identities: null,
  stateForgotten: false,
});

/**
 * Starts a run of a model sync. A sync has at most one active run (the store enforces it): starting
 * while one is queued or running returns that run, so retried requests never create a second one.
 */
export async function startModelExecution(
  core: Core,
  actor: Actor,
  syncId: string,
  options: {
    resync?: boolean | undefined;
    test?: boolean | undefined;
    /** Only these identities, sent whether they changed or not. */
    identities?: string[] | undefined;
    type?: 'manual' | 'scheduled';
  },
) {
  const sync = await getModelSync(core, actor, syncId);
  if (options.test && options.resync) {
    throw new FerryError('validation_failed', 'test runs cannot also be resyncs', { field: 'test' });
  }
  let execution: ExecutionRow;
  try {
    execution = await core.store.db.transaction(async (tx) => {
      const [row] = await tx
        .insert(executions)
        .values({
          organizationId: sync.organizationId,
          syncKind: 'model',
          syncId,
          status: 'queued',
          type: options.type ?? 'manual',
          isResync: options.resync ?? false,
          isTest: options.test ?? false,
        })
        .returning();
      await tx
        .insert(modelExecutionDetails)
        .values({ executionId: row!.id, identities: options.identities?.length ? options.identities : null });
      return row!;
    });
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    const [active] = await core.store.db
      .select()
      .from(executions)
      .where(and(eq(executions.syncId, syncId), inArray(executions.status, [...activeStatuses])));
    if (!active) throw error;
    return { execution: active, created: false };
  }
  const jobId = await core.queue.enqueue('modelsync', {
    organizationId: sync.organizationId,
    executionId: execution.id,
  });
  await core.store.db.update(executions).set({ jobId }).where(eq(executions.id, execution.id));
  return { execution: { ...execution, jobId }, created: true };
}

/** Newest first (or oldest first with `ascending`), keyset-paginated by execution id. */
export async function listModelExecutions(
  core: Core,
  actor: Actor,
  syncId: string,
  options: {
    pageToken?: string | undefined;
    onlyCompleted?: boolean | undefined;
    ascending?: boolean | undefined;
  },
) {
  await getModelSync(core, actor, syncId);
  const conditions = [eq(executions.syncId, syncId), eq(executions.syncKind, 'model')];
  if (options.onlyCompleted) conditions.push(inArray(executions.status, [...terminalStatuses]));
  if (options.pageToken) {
    const id = decodePageToken(options.pageToken);
    // Compared in the database: created_at has microseconds that a JavaScript Date would lose.
    const after = sql`(select created_at, id from executions where id = ${id})`;
    conditions.push(
      options.ascending
        ? sql`(${executions.createdAt}, ${executions.id}) > ${after}`
        : sql`(${executions.createdAt}, ${executions.id}) < ${after}`,
    );
  }
  const direction = options.ascending ? sql`asc` : sql`desc`;
  const rows = await core.store.db
    .select()
    .from(executions)
    .where(and(...conditions))
    .orderBy(sql`${executions.createdAt} ${direction}, ${executions.id} ${direction}`)
    .limit(maxExecutionPage + 1);
  const page = rows.slice(0, maxExecutionPage);
  const last = page.at(-1);
  return {
    executions: await withCounts(core, page),
    nextPageToken: rows.length > maxExecutionPage && last ? encodePageToken(last.id) : undefined,
  };
}

export async function getModelExecution(
  core: Core,
  actor: Actor,
  syncId: string,
  executionId: string,
): Promise<ModelExecutionDetail> {
  await getModelSync(core, actor, syncId);
  const [row] = await core.store.db
    .select()
    .from(executions)
    .where(and(eq(executions.id, executionId), eq(executions.syncId, syncId)));
  if (!row) throw notFound('execution', executionId);
  return (await withCounts(core, [row]))[0]!;
}

/**
 * Cancels a run. A queued run ends canceled at once; a running one becomes canceling and its worker,
 * which watches the flag every second, stops reading and writing and ends it canceled.
 */
export async function cancelModelExecution(core: Core, actor: Actor, syncId: string, executionId: string) {
  const execution = await getModelExecution(core, actor, syncId, executionId);
  if (isTerminal(execution.status)) {
    throw new FerryError('conflict', `execution ${executionId} has already ended (${execution.status})`);
  }
  const canceled = await core.store.db
    .update(executions)
    .set({
      status: 'canceled',
      cancelRequestedAt: sql`now()`,
      completedAt: sql`now()`,
      updatedAt: sql`now()`,
    })
    .where(and(eq(executions.id, executionId), inArray(executions.status, ['queued', 'created'])))
    .returning({ id: executions.id });
  // A queued run ends here, not in a worker, so its outcome is reported here.
  if (canceled.length > 0) await reportExecutionEnd(core, executionId);
  await core.store.db
    .update(executions)
    .set({ status: 'canceling', cancelRequestedAt: sql`now()`, updatedAt: sql`now()` })
    .where(and(eq(executions.id, executionId), eq(executions.status, 'running')));
  return getModelExecution(core, actor, syncId, executionId);
}

/** `POST /api/syncs/{id}/cancel`: cancels the sync's active run. */
export async function cancelModelSync(core: Core, actor: Actor, syncId: string) {
  await getModelSync(core, actor, syncId);
  const [active] = await core.store.db
    .select()
    .from(executions)
    .where(and(eq(executions.syncId, syncId), inArray(executions.status, [...activeStatuses])));
  if (!active) throw new FerryError('conflict', `sync ${syncId} has no active execution`);
  return cancelModelExecution(core, actor, syncId, active.id);
}

export async function modelSyncStatus(core: Core, actor: Actor, syncId: string) {
  const sync = await getModelSync(core, actor, syncId);
  const [current] = await core.store.db
    .select()
    .from(executions)
    .where(and(eq(executions.syncId, syncId), inArray(executions.status, [...activeStatuses])));
  const [last] = await core.store.db
    .select()
    .from(executions)
    .where(and(eq(executions.syncId, syncId), inArray(executions.status, [...terminalStatuses])))
    .orderBy(desc(executions.createdAt))
    .limit(1);
  const [currentDetail, lastDetail] = await Promise.all(
    [current, last].map(async (row) => (row ? (await withCounts(core, [row]))[0] : undefined)),
  );
  const next = sync.active
    ? await nextExecutionTime(core, syncId, [sync.schedule as unknown as Schedule])
    : null;
  return { current: currentDetail, last: lastDetail, nextExecutionTime: next };
}

export async function modelConsoleLog(
  core: Core,
  actor: Actor,
  ids: { syncId: string; executionId: string },
  page: { limit?: number | undefined; after?: string | undefined },
) {
  await getModelExecution(core, actor, ids.syncId, ids.executionId);
  return readConsoleLog(core.store.db, { executionId: ids.executionId, ...page });
}

/** The record log files of a run, of one type or all, with signed, expiring download URLs. */
export async function modelRecordLogs(
  core: Core,
  actor: Actor,
  syncId: string,
  executionId: string,
  type?: RecordLogType,
) {
  await getModelExecution(core, actor, syncId, executionId);
  const expiresAt = new Date(Date.now() + linkLifetimeMs);
  const files = (await listRecordLogs(core.store.db, executionId)).filter((f) => !type || f.type === type);
  return {
    expiresAt,
    files: files.map((file) => ({
      ...file,
      url: signRecordLogUrl(core.signingKey, { executionId, filename: file.filename, expiresAt }),
    })),
  };
}

/** `GET /api/syncs/{syncId}/executions/{id}/{type}/{filename}`: one log file, through the API key. */
export async function openModelRecordLog(
  core: Core,
  actor: Actor,
  ids: { syncId: string; executionId: string; type: RecordLogType; filename: string },
): Promise<ReadableStream> {
  await getModelExecution(core, actor, ids.syncId, ids.executionId);
  const files = await listRecordLogs(core.store.db, ids.executionId);
  if (!files.some((f) => f.type === ids.type && f.filename === ids.filename)) {
    throw new FerryError('not_found', `execution ${ids.executionId} has no ${ids.type} log ${ids.filename}`);
  }
  const stream = await openRecordLogFile(core.config.dataDir, ids.executionId, ids.filename);
  return Readable.toWeb(stream) as ReadableStream;
}

async function withCounts(core: Core, rows: ExecutionRow[]): Promise<ModelExecutionDetail[]> {
  if (rows.length === 0) return [];
  const counts = await core.store.db
    .select()
    .from(modelExecutionDetails)
    .where(
      inArray(
        modelExecutionDetails.executionId,
        rows.map((r) => r.id),
      ),
    );
  return rows.map((row) => ({
    ...row,
    counts: counts.find((c) => c.executionId === row.id) ?? zeroCounts(row.id),
  }));
}
