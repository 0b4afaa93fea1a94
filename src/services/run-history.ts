import { createInterface } from 'node:readline';
import { and, asc, desc, eq, gte, inArray, lt, or, type SQL, sql } from 'drizzle-orm';
import { FerryError, notFound } from '../domain/errors.ts';
import type { ExecutionStatus } from '../domain/executions.ts';
import { openRecordLogFile } from '../logs/record-log.ts';
import { bulkSyncs, executions, organizations, recordLogFiles, schemaExecutions } from '../store/schema.ts';
import { cancelBulkExecution, type ExecutionDetail } from './bulk-executions.ts';
import { getBulkSync } from './bulk-syncs.ts';
import type { Actor, Core } from './context.ts';

// Run history across syncs: the queries the Celigo and Qontext faces (and any other) read runs with.

/**
 * What a run reads: every row of its tables (`full`: a resync, or a snapshot-mode bulk run), rows
 * past each table's cursor (`incremental`), or a hand-picked part of the sync (`selection`: chosen
 * tables or a test run).
 */
export type RunScope = 'full' | 'incremental' | 'selection';
export const runScopes: readonly RunScope[] = ['full', 'incremental', 'selection'];

export interface RunRecord extends ExecutionDetail {
  scope: RunScope;
  /** The destination of a bulk run's sync; null for other kinds of run. */
  destinationConnectionId: string | null;
}

export interface RunFilter {
  kind?: 'bulk' | 'model' | undefined;
  syncId?: string | undefined;
  statuses?: readonly ExecutionStatus[] | undefined;
  scopes?: readonly RunScope[] | undefined;
  createdAfter?: Date | undefined;
  createdBefore?: Date | undefined;
  limit?: number | undefined;
  /** A `nextCursor` of an earlier page. */
  cursor?: string | undefined;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: string) => uuidPattern.test(value);

const scopeOf = sql<RunScope>`case
  when ${executions.isTest} or ${executions.schemaIds} is not null then 'selection'
  when ${executions.isResync} or ${bulkSyncs.mode} = 'snapshot' then 'full'
  else 'incremental' end`;

const runQuery = (core: Core) =>
  core.store.db
    .select({
      execution: executions,
      // The exact (microsecond) creation time, as cursors carry it.
      createdExact: sql<string>`${executions.createdAt}::text`,
      scope: scopeOf,
      destinationConnectionId: bulkSyncs.destinationConnectionId,
    })
    .from(executions)
    .leftJoin(bulkSyncs, and(eq(executions.syncKind, 'bulk'), eq(bulkSyncs.id, executions.syncId)));

type RunRow = Awaited<ReturnType<ReturnType<typeof runQuery>['where']>>[number];

/**
 * The actor acting inside `organizationId`: the key's own organization, or any existing one for an
 * admin key. Anything else is not found, so a key never learns another organization exists.
 */
export async function actorInOrganization(core: Core, actor: Actor, organizationId: string): Promise<Actor> {
  if (organizationId === actor.organizationId) return actor;
  if (actor.isAdmin && isUuid(organizationId)) {
    const [org] = await core.store.db
      .select({ id: organizations.id })
      .from(organizations)
      .where(eq(organizations.id, organizationId));
    if (org) return { ...actor, organizationId };
  }
  throw notFound('organization', organizationId);
}

/** Runs of the actor's organization, newest first, `limit` (default 50, at most 500) at a time. */
export async function listRuns(
  core: Core,
  actor: Actor,
  filter: RunFilter,
): Promise<{ runs: RunRecord[]; nextCursor: string | undefined }> {
  const limit = Math.min(filter.limit ?? 50, 500);
  const conditions: SQL[] = [eq(executions.organizationId, actor.organizationId)];
  if (filter.kind) conditions.push(eq(executions.syncKind, filter.kind));
  if (filter.syncId) {
    if (!isUuid(filter.syncId)) return { runs: [], nextCursor: undefined };
    conditions.push(eq(executions.syncId, filter.syncId));
  }
  if (filter.statuses) conditions.push(inArray(executions.status, [...filter.statuses]));
  if (filter.scopes) conditions.push(inArray(scopeOf, [...filter.scopes]));
  // Times on the wire have milliseconds: both bounds include their whole millisecond.
  if (filter.createdAfter) conditions.push(gte(executions.createdAt, filter.createdAfter));
  if (filter.createdBefore) {
    conditions.push(lt(executions.createdAt, new Date(filter.createdBefore.getTime() + 1)));
  }
  if (filter.cursor) {
    const { at, id } = decodeCursor(filter.cursor);
    const exact = sql`${at}::timestamptz`;
    conditions.push(
      or(lt(executions.createdAt, exact), and(eq(executions.createdAt, exact), lt(executions.id, id)))!,
    );
  }
  const rows = await runQuery(core)
    .where(and(...conditions))
    .orderBy(desc(executions.createdAt), desc(executions.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    runs: await withTables(core, page),
    nextCursor: rows.length > limit && last ? encodeCursor(last.createdExact, last.execution.id) : undefined,
  };
}

/** One run of the actor's organization, of any sync (or of `kind` only). */
export async function getRun(
  core: Core,
  actor: Actor,
  id: string,
  kind?: 'bulk' | 'model',
): Promise<RunRecord> {
  if (!isUuid(id)) throw notFound('execution', id);
  const conditions = [eq(executions.id, id), eq(executions.organizationId, actor.organizationId)];
  if (kind) conditions.push(eq(executions.syncKind, kind));
  const rows = await runQuery(core).where(and(...conditions));
  const [run] = await withTables(core, rows);
  if (!run) throw notFound('execution', id);
  return run;
}

/** Every run of a bulk sync, newest first. */
export async function listBulkSyncRuns(core: Core, actor: Actor, syncId: string): Promise<RunRecord[]> {
  if (!isUuid(syncId)) throw notFound('bulk sync', syncId);
  await getBulkSync(core, actor, syncId);
  const rows = await runQuery(core)
    .where(eq(executions.syncId, syncId))
    .orderBy(desc(executions.createdAt), desc(executions.id));
  return withTables(core, rows);
}

/** The newest run of each bulk sync of the actor's organization, and how many bulk syncs it has. */
export async function latestBulkRunPerSync(
  core: Core,
  actor: Actor,
): Promise<{ syncCount: number; runs: RunRecord[] }> {
  const [count] = await core.store.db
    .select({ n: sql<number>`count(*)::int` })
    .from(bulkSyncs)
    .where(eq(bulkSyncs.organizationId, actor.organizationId));
  const latest = core.store.db
    .selectDistinctOn([executions.syncId], { id: executions.id })
    .from(executions)
    .innerJoin(bulkSyncs, eq(bulkSyncs.id, executions.syncId))
    .where(and(eq(executions.organizationId, actor.organizationId), eq(executions.syncKind, 'bulk')))
    .orderBy(executions.syncId, desc(executions.createdAt), desc(executions.id));
  const rows = await runQuery(core).where(inArray(executions.id, latest)).orderBy(desc(executions.createdAt));
  return { syncCount: Number(count?.n ?? 0), runs: await withTables(core, rows) };
}

/** Cancels one bulk run by its id alone (a conflict when it has already ended). */
export async function cancelRun(core: Core, actor: Actor, id: string): Promise<ExecutionDetail> {
  const run = await getRun(core, actor, id, 'bulk');
  return cancelBulkExecution(core, actor, run.syncId, run.id);
}

export interface RunError {
  schemaId: string;
  /** `record`: a row the destination rejected; `table`: a table that failed as a whole. */
  kind: 'record' | 'table';
  message: string;
  occurredAt: Date;
}

/**
 * The errors of a run (or of one of its tables): every failed table, then the rejected rows of its
 * errors logs, at most `limit`; `total` counts them all.
 */
export async function listRunErrors(
  core: Core,
  actor: Actor,
  id: string,
  options: { schemaId?: string | undefined; limit: number },
): Promise<{ run: RunRecord; total: number; errors: RunError[] }> {
  const run = await getRun(core, actor, id);
  const tables = run.schemas.filter((t) => options.schemaId === undefined || t.schemaId === options.schemaId);
  const failures: RunError[] = tables
    .filter((t) => t.status === 'failed')
    .map((t) => ({
      schemaId: t.schemaId,
      kind: 'table',
      message: t.statusMessage ?? 'the table failed',
      occurredAt: t.completedAt ?? t.updatedAt,
    }));
  const files = await core.store.db
    .select()
    .from(recordLogFiles)
    .where(and(eq(recordLogFiles.executionId, run.id), eq(recordLogFiles.type, 'errors')))
    .orderBy(asc(recordLogFiles.schemaId));
  const wanted = files.filter((f) => f.schemaId !== null && tables.some((t) => t.schemaId === f.schemaId));
  const errors = failures.slice(0, options.limit);
  for (const file of wanted) {
    if (errors.length >= options.limit) break;
    for await (const line of readLines(core, run.id, file.filename)) {
      if (errors.length >= options.limit) break;
      const entry = JSON.parse(line) as { error?: unknown };
      errors.push({
        schemaId: file.schemaId!,
        kind: 'record',
        message: String(entry.error ?? 'rejected by the destination'),
        occurredAt: file.createdAt,
      });
    }
  }
  const total = failures.length + wanted.reduce((sum, f) => sum + f.records, 0);
  return { run, total, errors };
}

/** The lines of one record log file; none when the file is not on this machine's disk. */
async function* readLines(core: Core, executionId: string, filename: string): AsyncGenerator<string> {
  let stream: Awaited<ReturnType<typeof openRecordLogFile>>;
  try {
    stream = await openRecordLogFile(core.config.dataDir, executionId, filename);
  } catch (error) {
    if (error instanceof FerryError && error.code === 'not_found') return;
    throw error;
  }
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const line of lines) if (line.trim()) yield line;
  } finally {
    lines.close();
    stream.destroy();
  }
}

async function withTables(core: Core, rows: RunRow[]): Promise<RunRecord[]> {
  if (rows.length === 0) return [];
  const children = await core.store.db
    .select()
    .from(schemaExecutions)
    .where(
      inArray(
        schemaExecutions.executionId,
        rows.map((r) => r.execution.id),
      ),
    )
    .orderBy(asc(schemaExecutions.schemaId));
  return rows.map((row) => ({
    ...row.execution,
    scope: row.scope,
    destinationConnectionId: row.destinationConnectionId,
    schemas: children.filter((c) => c.executionId === row.execution.id),
  }));
}

function encodeCursor(at: string, id: string): string {
  return Buffer.from(JSON.stringify([at, id])).toString('base64url');
}

/** A timestamptz as PostgreSQL prints it: `2026-01-02 03:04:05.123456+00`. */
const timestampText = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2})?$/;

function decodeCursor(cursor: string): { at: string; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof at !== 'string' || !timestampText.test(at) || typeof id !== 'string' || !isUuid(id)) {
      throw new Error('bad cursor');
    }
    return { at, id };
  } catch {
    throw new FerryError('validation_failed', 'cursor is not a cursor returned by this API', {
      field: 'cursor',
    });
  }
}
