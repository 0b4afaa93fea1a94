import { and, asc, desc, eq, gt, inArray, lt, or, sql } from 'drizzle-orm';
import { FerryError, notFound } from '../domain/errors.ts';
import { activeStatuses, isTerminal, terminalStatuses } from '../domain/executions.ts';
import type { Schedule } from '../runner/schedule.ts';
import { nextExecutionTime } from '../runner/scheduler.ts';
import { isUniqueViolation } from '../store/errors.ts';
import { preparedQuery } from '../store/prepared.ts';
import {
  bulkSyncSchemas,
  type ExecutionRow,
  executions,
  type SchemaExecutionRow,
  schemaExecutions,
} from '../store/schema.ts';
import { actorLabel } from './actor-label.ts';
import { discoverNewTables, getBulkSync, listBulkSyncSchedules, listBulkSyncs } from './bulk-syncs.ts';
import type { Actor, Core } from './context.ts';
import { reportExecutionEnd } from './events.ts';
import { newTraceId } from './trace-context.ts';

export interface StartOptions {
  resync?: boolean | undefined;
  resyncMode?: 'refetch' | 'resync' | 'rebuild' | undefined;
  fetchMode?: 'none' | 'incremental' | 'full' | undefined;
  schemas?: string[] | undefined;
  test?: boolean | undefined;
  type?: 'manual' | 'scheduled' | undefined;
  /** W3C trace id of the request that starts the run (see trace-context.ts); generated when absent. */
  traceId?: string | undefined;
}

export interface ExecutionDetail extends ExecutionRow {
  schemas: SchemaExecutionRow[];
}

/** Rows a test run copies per table. */
export const testRunRowLimit = 100;

/**
 * Starts a run of a bulk sync. A sync has at most one active run (the store enforces it): starting
 * while one is queued or running returns that run, so retried requests never create a second one.
 */
export async function startBulkExecution(core: Core, actor: Actor, syncId: string, options: StartOptions) {
  const sync = await getBulkSync(core, actor, syncId);
  const resync = options.resync === true || options.resyncMode !== undefined || options.fetchMode === 'full';
  if (options.test && resync) {
    throw new FerryError('validation_failed', 'test runs cannot also be resyncs', { field: 'test' });
  }
  if (sync.discover) await discoverNewTables(core, actor, sync);
  const enabled = await core.store.db
    .select()
    .from(bulkSyncSchemas)
    .where(and(eq(bulkSyncSchemas.syncId, syncId), eq(bulkSyncSchemas.enabled, true)))
    .orderBy(asc(bulkSyncSchemas.schemaId));
  // A table named twice runs once (each table has one child execution per run).
  const selected = options.schemas?.length ? [...new Set(options.schemas)] : enabled.map((s) => s.schemaId);
  selected.forEach((schemaId, index) => {
    if (!enabled.some((s) => s.schemaId === schemaId)) {
      throw new FerryError(
        'validation_failed',
        `schemas.${index}: "${schemaId}" is not an enabled table of this sync`,
        {
          field: `schemas.${index}`,
        },
      );
    }
  });
  if (selected.length === 0) {
    throw new FerryError('validation_failed', 'the sync has no enabled table to run', { field: 'schemas' });
  }
  const triggeredBy = options.type === 'scheduled' ? 'schedule' : await actorLabel(core, actor);
  let execution: ExecutionRow | undefined;
  // The run that blocked the insert may end before it is read back; then the sync is free: try again.
  for (let tries = 0; !execution; tries++) {
    try {
      execution = await insertRun(
        core,
        sync.organizationId,
        syncId,
        options,
        resync,
        selected,
        enabled,
        triggeredBy,
      );
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      const active = await activeExecution(core, syncId);
      if (active) return { execution: active, created: false };
      if (tries >= 3) throw error;
    }
  }
  const jobId = await core.queue.enqueue('bulksync', {
    organizationId: sync.organizationId,
    executionId: execution.id,
  });
  await core.store.db.update(executions).set({ jobId }).where(eq(executions.id, execution.id));
  return { execution: { ...execution, jobId }, created: true };
}

function insertRun(
  core: Core,
  organizationId: string,
  syncId: string,
  options: StartOptions,
  resync: boolean,
  selected: string[],
  enabled: { schemaId: string; outputName: string }[],
  triggeredBy: string,
): Promise<ExecutionRow> {
  return core.store.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(executions)
      .values({
        organizationId,
        syncKind: 'bulk',
        syncId,
        status: 'queued',
        type: options.type ?? 'manual',
        isResync: resync,
        isTest: options.test ?? false,
        fetchMode: options.fetchMode ?? null,
        resyncMode: options.resyncMode ?? (options.resync ? 'rebuild' : null),
        schemaIds: options.schemas?.length ? selected : null,
        traceId: options.traceId ?? newTraceId(),
        triggeredBy,
      })
      .returning();
    await tx.insert(schemaExecutions).values(
      selected.map((schemaId) => ({
        executionId: row!.id,
        schemaId,
        outputName: enabled.find((s) => s.schemaId === schemaId)!.outputName,
        status: 'created' as const,
      })),
    );
    return row!;
  });
}

export async function activeExecution(core: Core, syncId: string): Promise<ExecutionRow | undefined> {
  const [row] = await core.store.db
    .select()
    .from(executions)
    .where(and(eq(executions.syncId, syncId), inArray(executions.status, [...activeStatuses])));
  return row;
}

export interface ListOptions {
  pageToken?: string | undefined;
  onlyTerminal?: boolean | undefined;
  ascending?: boolean | undefined;
  limit?: number | undefined;
}

/** Keyset pagination over (time, id): stable while runs are added. */
export async function listBulkExecutions(core: Core, actor: Actor, syncId: string, options: ListOptions) {
  await getBulkSync(core, actor, syncId);
  const limit = options.limit ?? 50;
  const orderColumn = options.onlyTerminal ? executions.updatedAt : executions.createdAt;
  const conditions = [eq(executions.syncId, syncId)];
  if (options.onlyTerminal) conditions.push(inArray(executions.status, [...terminalStatuses]));
  if (options.pageToken) {
    const { at, id } = decodePageToken(options.pageToken);
    const beyond = options.ascending ? gt : lt;
    conditions.push(or(beyond(orderColumn, at), and(eq(orderColumn, at), beyond(executions.id, id)))!);
  }
  const direction = options.ascending ? asc : desc;
  const rows = await core.store.db
    .select()
    .from(executions)
    .where(and(...conditions))
    .orderBy(direction(orderColumn), direction(executions.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const nextPageToken =
    rows.length > limit && last
      ? encodePageToken(options.onlyTerminal ? last.updatedAt : last.createdAt, last.id)
      : undefined;
  return { executions: await withSchemas(core, page), nextPageToken };
}

const executionOfSync = preparedQuery((db) =>
  db
    .select()
    .from(executions)
    .where(and(eq(executions.id, sql.placeholder('id')), eq(executions.syncId, sql.placeholder('syncId'))))
    .prepare('ferry_execution_of_sync'),
);
const tablesOfExecution = preparedQuery((db) =>
  db
    .select()
    .from(schemaExecutions)
    .where(eq(schemaExecutions.executionId, sql.placeholder('executionId')))
    .orderBy(asc(schemaExecutions.schemaId))
    .prepare('ferry_tables_of_execution'),
);

export async function getBulkExecution(
  core: Core,
  actor: Actor,
  syncId: string,
  executionId: string,
): Promise<ExecutionDetail> {
  await getBulkSync(core, actor, syncId);
  const [row] = await executionOfSync(core.store.db).execute({ id: executionId, syncId });
  if (!row) throw notFound('execution', executionId);
  return { ...row, schemas: await tablesOfExecution(core.store.db).execute({ executionId }) };
}

/**
 * Cancels a run. A queued run ends canceled at once; a running one becomes canceling and its worker,
 * which watches the flag, stops the running queries and discards the attempt.
 */
export async function cancelBulkExecution(core: Core, actor: Actor, syncId: string, executionId: string) {
  const execution = await getBulkExecution(core, actor, syncId, executionId);
  if (isTerminal(execution.status)) {
    throw new FerryError('conflict', `execution ${executionId} has already ended (${execution.status})`);
  }
  const canceledBy = execution.canceledBy ?? (await actorLabel(core, actor));
  if (execution.status === 'queued' || execution.status === 'created') {
    const canceled = await core.store.db
      .update(executions)
      .set({
        status: 'canceled',
        canceledBy,
        cancelRequestedAt: sql`now()`,
        completedAt: sql`now()`,
        updatedAt: sql`now()`,
      })
      .where(and(eq(executions.id, executionId), inArray(executions.status, ['queued', 'created'])))
      .returning({ id: executions.id });
    await core.store.db
      .update(schemaExecutions)
      .set({ status: 'canceled', completedAt: sql`now()`, updatedAt: sql`now()` })
      .where(
        and(
          eq(schemaExecutions.executionId, executionId),
          inArray(schemaExecutions.status, ['created', 'queued']),
        ),
      );
    if (canceled.length > 0) await reportExecutionEnd(core, executionId);
  }
  await core.store.db
    .update(executions)
    .set({ status: 'canceling', canceledBy, cancelRequestedAt: sql`now()`, updatedAt: sql`now()` })
    .where(and(eq(executions.id, executionId), eq(executions.status, 'running')));
  return getBulkExecution(core, actor, syncId, executionId);
}

/** `POST /api/bulk/syncs/{id}/cancel`: cancels the sync's active run, if any. */
export async function cancelBulkSync(core: Core, actor: Actor, syncId: string) {
  await getBulkSync(core, actor, syncId);
  const active = await activeExecution(core, syncId);
  if (!active) throw new FerryError('conflict', `bulk sync ${syncId} has no active execution`);
  return cancelBulkExecution(core, actor, syncId, active.id);
}

/** Cancels one table of the active run; the rest of the run goes on. */
export async function cancelBulkSchema(core: Core, actor: Actor, syncId: string, schemaId: string) {
  await getBulkSync(core, actor, syncId);
  const active = await activeExecution(core, syncId);
  const updated = active
    ? await core.store.db
        .update(schemaExecutions)
        .set({ status: 'canceling', updatedAt: sql`now()` })
        .where(
          and(
            eq(schemaExecutions.executionId, active.id),
            eq(schemaExecutions.schemaId, schemaId),
            inArray(schemaExecutions.status, ['created', 'queued', 'running']),
          ),
        )
        .returning()
    : [];
  if (updated.length === 0) throw new FerryError('conflict', `table ${schemaId} is not running in this sync`);
  return getBulkExecution(core, actor, syncId, active!.id);
}

export interface SyncStatus {
  syncId: string;
  current: ExecutionDetail | undefined;
  last: ExecutionDetail | undefined;
  /** The most recent run of each enabled table, whichever execution (a partial one too) it was in. */
  tables: SchemaExecutionRow[];
  nextExecutionTime: Date | null;
}

export async function bulkSyncStatus(core: Core, actor: Actor, syncId: string): Promise<SyncStatus> {
  const sync = await getBulkSync(core, actor, syncId);
  const active = await activeExecution(core, syncId);
  const [last] = await core.store.db
    .select()
    .from(executions)
    .where(and(eq(executions.syncId, syncId), inArray(executions.status, [...terminalStatuses])))
    .orderBy(desc(executions.createdAt))
    .limit(1);
  const [current, previous] = await Promise.all(
    [active, last].map(async (row) => row && (await withSchemas(core, [row]))[0]),
  );
  const schedules = [
    sync.schedule,
    ...(await listBulkSyncSchedules(core, actor, syncId)).map((s) => s.schedule),
  ] as unknown as Schedule[];
  const next = sync.active ? await nextExecutionTime(core, syncId, schedules) : null;
  return {
    syncId,
    current,
    last: previous,
    tables: await latestTableRuns(core, syncId),
    nextExecutionTime: next,
  };
}

async function latestTableRuns(core: Core, syncId: string): Promise<SchemaExecutionRow[]> {
  const rows = await core.store.db
    .selectDistinctOn([schemaExecutions.schemaId], { table: schemaExecutions })
    .from(schemaExecutions)
    .innerJoin(executions, eq(executions.id, schemaExecutions.executionId))
    .innerJoin(
      bulkSyncSchemas,
      and(
        eq(bulkSyncSchemas.syncId, executions.syncId),
        eq(bulkSyncSchemas.schemaId, schemaExecutions.schemaId),
      ),
    )
    .where(and(eq(executions.syncId, syncId), eq(bulkSyncSchemas.enabled, true)))
    .orderBy(asc(schemaExecutions.schemaId), desc(executions.createdAt), desc(executions.id));
  return rows.map((row) => row.table);
}

/** `GET /api/bulk/syncs/status`: `all` or `active` win over `sync_id`s. */
export async function listBulkSyncStatuses(
  core: Core,
  actor: Actor,
  options: { all?: boolean | undefined; active?: boolean | undefined; syncIds?: string[] | undefined },
): Promise<SyncStatus[]> {
  let ids: string[];
  if (options.all || options.active) {
    ids = (await listBulkSyncs(core, actor, options.active ? { active: true } : {})).map((s) => s.id);
  } else {
    ids = [...new Set(options.syncIds ?? [])]; // one entry per sync, however often it is named
    if (ids.length === 0) {
      throw new FerryError('validation_failed', 'give sync_id, all=true or active=true', {
        field: 'sync_id',
      });
    }
  }
  return Promise.all(ids.map((id) => bulkSyncStatus(core, actor, id)));
}

async function withSchemas(core: Core, rows: ExecutionRow[]): Promise<ExecutionDetail[]> {
  if (rows.length === 0) return [];
  const children = await core.store.db
    .select()
    .from(schemaExecutions)
    .where(
      inArray(
        schemaExecutions.executionId,
        rows.map((r) => r.id),
      ),
    )
    .orderBy(asc(schemaExecutions.schemaId));
  return rows.map((row) => ({ ...row, schemas: children.filter((c) => c.executionId === row.id) }));
}

function encodePageToken(at: Date, id: string): string {
  return Buffer.from(JSON.stringify([at.toISOString(), id])).toString('base64url');
}

function decodePageToken(token: string): { at: Date; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as [string, string];
    const date = new Date(at);
    if (Number.isNaN(date.getTime()) || typeof id !== 'string') throw new Error('bad token');
    return { at: date, id };
  } catch {
    throw new FerryError('validation_failed', 'page_token is not a token returned by this API', {
      field: 'page_token',
    });
  }
}
