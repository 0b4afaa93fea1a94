import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { getConnectorType } from '../connectors/registry.ts';
import type { SchemaInfo } from '../connectors/types.ts';
import { FerryError, notFound } from '../domain/errors.ts';
import { parseFilter } from '../domain/filters.ts';
import { type Schedule, validateSchedule } from '../runner/schedule.ts';
import { preparedQuery } from '../store/prepared.ts';
import {
  type BulkFieldConfig,
  type BulkFilterConfig,
  type BulkSyncRow,
  type BulkSyncSchemaRow,
  bulkSyncSchedules,
  bulkSyncSchemas,
  bulkSyncs,
  connections,
} from '../store/schema.ts';
import { activeExecution, cancelBulkExecution } from './bulk-executions.ts';
import { listSchemas, refreshSchemaCache } from './connections.ts';
import { type Actor, type Core, targetOrganization } from './context.ts';
import { checkRunAfter } from './run-after.ts';

export interface SchemaSelection {
  id: string;
  enabled?: boolean | undefined;
  fields?: BulkFieldConfig[] | undefined;
  trackingField?: string | undefined;
  partitionKey?: string | undefined;
  userOutputName?: string | undefined;
  filters?: BulkFilterConfig[] | undefined;
}

export interface BulkSyncInput {
  name: string;
  sourceConnectionId: string;
  destinationConnectionId: string;
  mode?: 'snapshot' | 'replicate' | undefined;
  active?: boolean | undefined;
  discover?: boolean | undefined;
  normalizeNames?: 'enabled' | 'disabled' | 'legacy' | undefined;
  concurrencyLimit?: number | undefined;
  sourceConfiguration?: Record<string, unknown> | undefined;
  destinationConfiguration?: Record<string, unknown> | undefined;
  schedule: Record<string, unknown>;
  /** Tables to sync; all the source's tables when absent. */
  schemas?: SchemaSelection[] | undefined;
  organizationId?: string | undefined;
}

export async function listBulkSyncs(core: Core, actor: Actor, filter: { active?: boolean | undefined } = {}) {
  const conditions = [eq(bulkSyncs.organizationId, actor.organizationId)];
  if (filter.active !== undefined) conditions.push(eq(bulkSyncs.active, filter.active));
  return core.store.db
    .select()
    .from(bulkSyncs)
    .where(and(...conditions))
    .orderBy(asc(bulkSyncs.createdAt));
}

const bulkSyncById = preparedQuery((db) =>
  db
    .select()
    .from(bulkSyncs)
    .where(
      and(
        eq(bulkSyncs.id, sql.placeholder('id')),
        eq(bulkSyncs.organizationId, sql.placeholder('organizationId')),
      ),
    )
    .prepare('ferry_bulk_sync_by_id'),
);

export async function getBulkSync(core: Core, actor: Actor, id: string): Promise<BulkSyncRow> {
  const [row] = await bulkSyncById(core.store.db).execute({ id, organizationId: actor.organizationId });
  if (!row) throw notFound('bulk sync', id);
  return row;
}

export async function createBulkSync(core: Core, actor: Actor, input: BulkSyncInput): Promise<BulkSyncRow> {
  const organizationId = targetOrganization(actor, input.organizationId);
  validateSchedule(input.schedule as unknown as Schedule);
  await checkRunAfter(core, organizationId, input.schedule as unknown as Schedule);
  const scoped = { ...actor, organizationId };
  await checkEndpoints(core, scoped, input.sourceConnectionId, input.destinationConnectionId);
  const mode = input.mode ?? 'snapshot';
  const normalizeNames = input.normalizeNames ?? 'enabled';
  const available = await listSchemas(core, scoped, input.sourceConnectionId);
  const selections = input.schemas ?? available.map((schema) => ({ id: schema.id }));
  const schemaRows = schemaRowsOf(available, selections, { mode, normalizeNames });
  return core.store.db.transaction(async (tx) => {
    const [sync] = await tx
      .insert(bulkSyncs)
      .values({
        organizationId,
        name: input.name,
        sourceConnectionId: input.sourceConnectionId,
        destinationConnectionId: input.destinationConnectionId,
        mode,
        active: input.active ?? true,
        discover: input.discover ?? false,
        normalizeNames,
        concurrencyLimit: input.concurrencyLimit ?? 4,
        sourceConfiguration: input.sourceConfiguration ?? {},
        destinationConfiguration: input.destinationConfiguration ?? {},
        schedule: input.schedule,
        createdBy: actor.userId,
      })
      .returning();
    if (schemaRows.length > 0) {
      await tx.insert(bulkSyncSchemas).values(schemaRows.map((row) => ({ ...row, syncId: sync!.id })));
    }
    return sync!;
  });
}

/** Replaces the configuration; `schemas`, when given, replaces the selection (cursors live in the destination). */
export async function updateBulkSync(
  core: Core,
  actor: Actor,
  id: string,
  input: BulkSyncInput,
): Promise<BulkSyncRow> {
  const current = await getBulkSync(core, actor, id);
  validateSchedule(input.schedule as unknown as Schedule);
  await checkRunAfter(core, current.organizationId, input.schedule as unknown as Schedule);
  await checkEndpoints(core, actor, input.sourceConnectionId, input.destinationConnectionId);
  const mode = input.mode ?? current.mode;
  const normalizeNames = input.normalizeNames ?? current.normalizeNames;
  const schemaRows = input.schemas
    ? await (async () => {
        const available = await listSchemas(core, actor, input.sourceConnectionId);
        return schemaRowsOf(available, input.schemas!, { mode, normalizeNames });
      })()
    : undefined;
  if (!schemaRows && mode === 'replicate') await checkReplicable(core, actor, id, input.sourceConnectionId);
  return core.store.db.transaction(async (tx) => {
    const [sync] = await tx
      .update(bulkSyncs)
      .set({
        name: input.name,
        sourceConnectionId: input.sourceConnectionId,
        destinationConnectionId: input.destinationConnectionId,
        mode,
        active: input.active ?? current.active,
        discover: input.discover ?? current.discover,
        normalizeNames,
        concurrencyLimit: input.concurrencyLimit ?? current.concurrencyLimit,
        sourceConfiguration: input.sourceConfiguration ?? current.sourceConfiguration,
        destinationConfiguration: input.destinationConfiguration ?? current.destinationConfiguration,
        schedule: input.schedule,
        updatedAt: sql`now()`,
      })
      .where(eq(bulkSyncs.id, id))
      .returning();
    if (schemaRows) {
      await tx.delete(bulkSyncSchemas).where(eq(bulkSyncSchemas.syncId, id));
      if (schemaRows.length > 0)
        await tx.insert(bulkSyncSchemas).values(schemaRows.map((r) => ({ ...r, syncId: id })));
    }
    return sync!;
  });
}

/** A sync turned to replicate, its selection kept, still needs a primary key on every enabled table. */
async function checkReplicable(core: Core, actor: Actor, syncId: string, sourceId: string): Promise<void> {
  const available = await listSchemas(core, actor, sourceId);
  const kept = await core.store.db
    .select({ schemaId: bulkSyncSchemas.schemaId })
    .from(bulkSyncSchemas)
    .where(and(eq(bulkSyncSchemas.syncId, syncId), eq(bulkSyncSchemas.enabled, true)));
  for (const { schemaId } of kept) {
    const schema = available.find((candidate) => candidate.id === schemaId);
    if (schema && schema.primaryKeys.length === 0) {
      throw new FerryError(
        'validation_failed',
        `mode: table "${schemaId}" has no primary key, which replicate mode needs to merge rows`,
        { field: 'mode' },
      );
    }
  }
}

export async function deleteBulkSync(core: Core, actor: Actor, id: string): Promise<void> {
  await getBulkSync(core, actor, id);
  // A run in flight is canceled with its sync: it would otherwise go on loading the destination of a
  // sync that no longer exists (runs are kept, and watched, apart from their sync).
  const active = await activeExecution(core, id);
  if (active) {
    await cancelBulkExecution(core, actor, id, active.id).catch((error: unknown) => {
      // It ended meanwhile: nothing left to stop.
      if (!(error instanceof FerryError && error.code === 'conflict')) throw error;
    });
  }
  await core.store.db.delete(bulkSyncs).where(eq(bulkSyncs.id, id));
}

export async function setBulkSyncActive(
  core: Core,
  actor: Actor,
  id: string,
  active: boolean,
): Promise<BulkSyncRow> {
  await getBulkSync(core, actor, id);
  const [row] = await core.store.db
    .update(bulkSyncs)
    .set({ active, updatedAt: sql`now()` })
    .where(eq(bulkSyncs.id, id))
    .returning();
  return row!;
}

export async function listBulkSyncSchemas(
  core: Core,
  actor: Actor,
  id: string,
): Promise<BulkSyncSchemaRow[]> {
  await getBulkSync(core, actor, id);
  return core.store.db
    .select()
    .from(bulkSyncSchemas)
    .where(eq(bulkSyncSchemas.syncId, id))
    .orderBy(asc(bulkSyncSchemas.schemaId));
}

export async function getBulkSyncSchema(core: Core, actor: Actor, id: string, schemaId: string) {
  await getBulkSync(core, actor, id);
  const [row] = await core.store.db
    .select()
    .from(bulkSyncSchemas)
    .where(and(eq(bulkSyncSchemas.syncId, id), eq(bulkSyncSchemas.schemaId, schemaId)));
  if (!row) throw notFound('schema', schemaId);
  return row;
}

/** Updates the selection of some tables (PUT one, PATCH many); tables not yet known are added. */
export async function updateBulkSyncSchemas(
  core: Core,
  actor: Actor,
  id: string,
  selections: SchemaSelection[],
): Promise<BulkSyncSchemaRow[]> {
  const sync = await getBulkSync(core, actor, id);
  const available = await listSchemas(core, actor, sync.sourceConnectionId);
  const existing = await listBulkSyncSchemas(core, actor, id);
  const rows = selections.map((selection, index) => {
    const previous = existing.find((row) => row.schemaId === selection.id);
    const merged: SchemaSelection = {
      id: selection.id,
      enabled: selection.enabled ?? previous?.enabled,
      fields: selection.fields ?? previous?.fields,
      trackingField: selection.trackingField ?? previous?.trackingField ?? undefined,
      partitionKey: selection.partitionKey ?? previous?.partitionKey ?? undefined,
      userOutputName: selection.userOutputName ?? previous?.userOutputName ?? undefined,
      filters: selection.filters ?? previous?.filters,
    };
    return schemaRow(available, merged, sync, `schemas.${index}`);
  });
  const untouched = existing.filter((row) => !rows.some((r) => r.schemaId === row.schemaId));
  checkOutputNames([...rows, ...untouched], (index) =>
    index < rows.length ? `schemas.${index}` : undefined,
  );
  await core.store.db.transaction(async (tx) => {
    for (const row of rows) {
      await tx
        .insert(bulkSyncSchemas)
        .values({ ...row, syncId: id })
        .onConflictDoUpdate({ target: [bulkSyncSchemas.syncId, bulkSyncSchemas.schemaId], set: row });
    }
  });
  const ids = rows.map((row) => row.schemaId);
  return core.store.db
    .select()
    .from(bulkSyncSchemas)
    .where(and(eq(bulkSyncSchemas.syncId, id), inArray(bulkSyncSchemas.schemaId, ids)));
}

export async function listBulkSyncSchedules(core: Core, actor: Actor, syncId: string) {
  await getBulkSync(core, actor, syncId);
  return core.store.db
    .select()
    .from(bulkSyncSchedules)
    .where(eq(bulkSyncSchedules.syncId, syncId))
    .orderBy(asc(bulkSyncSchedules.createdAt));
}

export async function getBulkSyncSchedule(core: Core, actor: Actor, syncId: string, scheduleId: string) {
  await getBulkSync(core, actor, syncId);
  const [row] = await core.store.db
    .select()
    .from(bulkSyncSchedules)
    .where(and(eq(bulkSyncSchedules.id, scheduleId), eq(bulkSyncSchedules.syncId, syncId)));
  if (!row) throw notFound('schedule', scheduleId);
  return row;
}

export async function createBulkSyncSchedule(
  core: Core,
  actor: Actor,
  syncId: string,
  schedule: Record<string, unknown>,
) {
  await getBulkSync(core, actor, syncId);
  validateSchedule(schedule as unknown as Schedule);
  await checkRunAfter(core, actor.organizationId, schedule as unknown as Schedule);
  const [row] = await core.store.db.insert(bulkSyncSchedules).values({ syncId, schedule }).returning();
  return row!;
}

export async function updateBulkSyncSchedule(
  core: Core,
  actor: Actor,
  syncId: string,
  scheduleId: string,
  schedule: Record<string, unknown>,
) {
  await getBulkSyncSchedule(core, actor, syncId, scheduleId);
  validateSchedule(schedule as unknown as Schedule);
  await checkRunAfter(core, actor.organizationId, schedule as unknown as Schedule);
  const [row] = await core.store.db
    .update(bulkSyncSchedules)
    .set({ schedule, updatedAt: sql`now()` })
    .where(eq(bulkSyncSchedules.id, scheduleId))
    .returning();
  return row!;
}

export async function deleteBulkSyncSchedule(core: Core, actor: Actor, syncId: string, scheduleId: string) {
  await getBulkSyncSchedule(core, actor, syncId, scheduleId);
  await core.store.db.delete(bulkSyncSchedules).where(eq(bulkSyncSchedules.id, scheduleId));
}

/**
 * `discover`: tables that appeared in the source since the sync was configured join it, enabled.
 * (New fields need nothing: a table whose selection names no fields takes every field, and the
 * destination adds the columns.)
 */
export async function discoverNewTables(core: Core, actor: Actor, sync: BulkSyncRow): Promise<string[]> {
  await refreshSchemaCache(core, actor, sync.sourceConnectionId);
  const available = await listSchemas(core, actor, sync.sourceConnectionId);
  const known = new Set(
    (
      await core.store.db
        .select({ id: bulkSyncSchemas.schemaId })
        .from(bulkSyncSchemas)
        .where(eq(bulkSyncSchemas.syncId, sync.id))
    ).map((r) => r.id),
  );
  const added = available
    .filter((schema) => !known.has(schema.id))
    .filter((schema) => sync.mode === 'snapshot' || schema.primaryKeys.length > 0)
    .map((schema) => ({ ...schemaRow(available, { id: schema.id }, sync, 'schemas'), syncId: sync.id }));
  if (added.length > 0) await core.store.db.insert(bulkSyncSchemas).values(added).onConflictDoNothing();
  return added.map((row) => row.schemaId);
}

/** Destination table names: lower snake case when the sync normalizes names. */
export function outputNameOf(name: string, normalizeNames: string): string {
  if (normalizeNames === 'disabled') return name;
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toLowerCase();
}

async function checkEndpoints(
  core: Core,
  actor: Actor,
  sourceId: string,
  destinationId: string,
): Promise<void> {
  const rows = await core.store.db
    .select({ id: connections.id, type: connections.type })
    .from(connections)
    .where(
      and(
        inArray(connections.id, [sourceId, destinationId]),
        eq(connections.organizationId, actor.organizationId),
      ),
    );
  const source = rows.find((row) => row.id === sourceId);
  const destination = rows.find((row) => row.id === destinationId);
  if (!source) {
    throw new FerryError('validation_failed', `source connection ${sourceId} not found`, {
      field: 'source_connection_id',
    });
  }
  if (!getConnectorType(source.type)?.openReader) {
    throw new FerryError('validation_failed', `a ${source.type} connection cannot be a bulk sync source`, {
      field: 'source_connection_id',
    });
  }
  if (!destination) {
    throw new FerryError('validation_failed', `destination connection ${destinationId} not found`, {
      field: 'destination_connection_id',
    });
  }
  if (!getConnectorType(destination.type)?.openWriter) {
    throw new FerryError(
      'validation_failed',
      `a ${destination.type} connection cannot be a bulk sync destination`,
      {
        field: 'destination_connection_id',
      },
    );
  }
}

/** The rows of a sync's whole selection; a table may be listed once. */
function schemaRowsOf(
  available: SchemaInfo[],
  selections: SchemaSelection[],
  sync: { mode: string; normalizeNames: string },
): Omit<BulkSyncSchemaRow, 'syncId'>[] {
  const rows = selections.map((selection, index) =>
    schemaRow(available, selection, sync, `schemas.${index}`),
  );
  rows.forEach((row, index) => {
    const first = rows.findIndex((other) => other.schemaId === row.schemaId);
    if (first !== index) {
      throw new FerryError(
        'validation_failed',
        `schemas.${index}.id: table "${row.schemaId}" is already listed at schemas.${first}`,
        { field: `schemas.${index}.id` },
      );
    }
  });
  checkOutputNames(rows, (index) => `schemas.${index}`);
  return rows;
}

/**
 * Two enabled tables of a sync may not load into the same destination table: the second load would
 * replace the first one's rows while both runs report success. `at` names the field of row `index`.
 */
function checkOutputNames(
  rows: Pick<BulkSyncSchemaRow, 'schemaId' | 'enabled' | 'outputName'>[],
  at: (index: number) => string | undefined,
): void {
  rows.forEach((row, index) => {
    const field = at(index);
    if (!field || !row.enabled) return;
    // Reported at the later of two listed rows; rows without a field (kept as they are) come first.
    const other = rows.find(
      (o, i) =>
        (i < index || at(i) === undefined) && i !== index && o.enabled && o.outputName === row.outputName,
    );
    if (other) {
      throw new FerryError(
        'validation_failed',
        `${field}.user_output_name: table "${row.schemaId}" would load into "${row.outputName}", as table "${other.schemaId}" does`,
        { field: `${field}.user_output_name` },
      );
    }
  });
}

/** Checks one table selection against the source's introspection and turns it into a row. */
function schemaRow(
  available: SchemaInfo[],
  selection: SchemaSelection,
  sync: { mode: string; normalizeNames: string },
  field: string,
): Omit<BulkSyncSchemaRow, 'syncId'> {
  const schema = available.find((candidate) => candidate.id === selection.id);
  if (!schema) {
    throw new FerryError('validation_failed', `${field}.id: the source has no table "${selection.id}"`, {
      field: `${field}.id`,
    });
  }
  const known = new Set(schema.fields.map((f) => f.name));
  const checkField = (name: string | undefined, at: string) => {
    if (name !== undefined && !known.has(name)) {
      throw new FerryError('validation_failed', `${at}: table "${schema.id}" has no field "${name}"`, {
        field: at,
      });
    }
  };
  for (const [i, f] of (selection.fields ?? []).entries()) checkField(f.id, `${field}.fields.${i}.id`);
  for (const [i, f] of (selection.filters ?? []).entries()) {
    checkField(f.field_id, `${field}.filters.${i}.field_id`);
    parseFilter(f, `${field}.filters.${i}`);
  }
  if (selection.userOutputName !== undefined && selection.userOutputName.trim() === '') {
    throw new FerryError('validation_failed', `${field}.user_output_name: must not be empty`, {
      field: `${field}.user_output_name`,
    });
  }
  checkField(selection.trackingField, `${field}.tracking_field`);
  checkField(selection.partitionKey, `${field}.partition_key`);
  const enabled = selection.enabled ?? true;
  if (enabled && sync.mode === 'replicate' && schema.primaryKeys.length === 0) {
    throw new FerryError(
      'validation_failed',
      `${field}: table "${schema.id}" has no primary key, which replicate mode needs to merge rows`,
      { field: `${field}.id` },
    );
  }
  return {
    schemaId: schema.id,
    enabled,
    outputName: selection.userOutputName ?? outputNameOf(schema.name, sync.normalizeNames),
    userOutputName: selection.userOutputName ?? null,
    partitionKey: selection.partitionKey ?? null,
    trackingField: selection.trackingField ?? null,
    filters: selection.filters ?? [],
    fields: selection.fields ?? [],
  };
}
