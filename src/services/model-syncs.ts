import { and, asc, eq, sql } from 'drizzle-orm';
import { FerryError, notFound } from '../domain/errors.ts';
import { filterValueKind } from '../domain/filters.ts';
import { filterFunctions } from '../engine/model/plan.ts';
import { identityModes } from '../engine/model/targets/modes.ts';
import { describeTarget, listTargetObjects, type ModelTargetInfo } from '../engine/model/targets.ts';
import { type Schedule, validateSchedule } from '../runner/schedule.ts';
import {
  type ModelRow,
  type ModelSyncFieldConfig,
  type ModelSyncFilterConfig,
  type ModelSyncIdentityConfig,
  type ModelSyncMode,
  type ModelSyncOverrideConfig,
  type ModelSyncRow,
  modelSyncs,
  models,
} from '../store/schema.ts';
import { getConnection } from './connections.ts';
import { type Actor, type Core, targetOrganization } from './context.ts';
import { cancelModelSync } from './model-executions.ts';
import { checkRunAfter } from './run-after.ts';

export interface ModelSyncInput {
  name: string;
  mode: ModelSyncMode;
  target: { connectionId: string; object: string; configuration?: Record<string, unknown> | undefined };
  fields: ModelSyncFieldConfig[];
  /** Polytomic's `override_fields`: constant values for target fields, kept with the field mappings. */
  overrideFields?: ModelSyncFieldConfig[] | undefined;
  identity?: ModelSyncIdentityConfig | undefined;
  filters?: ModelSyncFilterConfig[] | undefined;
  filterLogic?: string | undefined;
  overrides?: ModelSyncOverrideConfig[] | undefined;
  schedule: Record<string, unknown>;
  active?: boolean | undefined;
  syncAllRecords?: boolean | undefined;
  organizationId?: string | undefined;
}

export const maxListLimit = 50;

export interface ListFilter {
  active?: boolean | undefined;
  mode?: ModelSyncMode | undefined;
  targetConnectionId?: string | undefined;
  pageToken?: string | undefined;
  limit?: number | undefined;
}

/** Keyset pagination over (created_at, id). */
export async function listModelSyncs(core: Core, actor: Actor, filter: ListFilter = {}) {
  const limit = filter.limit ?? maxListLimit;
  if (!Number.isInteger(limit) || limit < 1 || limit > maxListLimit) {
    throw new FerryError('validation_failed', `limit: must be between 1 and ${maxListLimit}`, {
      field: 'limit',
    });
  }
  const conditions = [eq(modelSyncs.organizationId, actor.organizationId)];
  if (filter.active !== undefined) conditions.push(eq(modelSyncs.active, filter.active));
  if (filter.mode !== undefined) conditions.push(eq(modelSyncs.mode, filter.mode));
  if (filter.targetConnectionId !== undefined)
    conditions.push(eq(modelSyncs.targetConnectionId, filter.targetConnectionId));
  if (filter.pageToken) {
    // Compared in the database: created_at has microseconds that a JavaScript Date would lose.
    const id = decodePageToken(filter.pageToken);
    conditions.push(
      sql`(${modelSyncs.createdAt}, ${modelSyncs.id}) > (select created_at, id from model_syncs where id = ${id})`,
    );
  }
  const rows = await core.store.db
    .select()
    .from(modelSyncs)
    .where(and(...conditions))
    .orderBy(asc(modelSyncs.createdAt), asc(modelSyncs.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    syncs: page,
    nextPageToken: rows.length > limit && last ? encodePageToken(last.id) : undefined,
  };
}

export async function getModelSync(core: Core, actor: Actor, id: string): Promise<ModelSyncRow> {
  const [row] = await core.store.db
    .select()
    .from(modelSyncs)
    .where(and(eq(modelSyncs.id, id), eq(modelSyncs.organizationId, actor.organizationId)));
  if (!row) throw notFound('sync', id);
  return row;
}

export async function createModelSync(
  core: Core,
  actor: Actor,
  input: ModelSyncInput,
): Promise<ModelSyncRow> {
  const organizationId = targetOrganization(actor, input.organizationId);
  const checked = await checkModelSync(core, { ...actor, organizationId }, input);
  const [row] = await core.store.db
    .insert(modelSyncs)
    .values({ ...checked, organizationId, createdBy: actor.userId })
    .returning();
  return row!;
}

export async function updateModelSync(
  core: Core,
  actor: Actor,
  id: string,
  input: ModelSyncInput,
): Promise<ModelSyncRow> {
  const current = await getModelSync(core, actor, id);
  const checked = await checkModelSync(core, { ...actor, organizationId: current.organizationId }, input);
  const [row] = await core.store.db
    .update(modelSyncs)
    // A new mapping can change records whose tracking columns did not: the next run compares them all.
    .set({ ...checked, active: input.active ?? current.active, trackingMarks: null, updatedAt: sql`now()` })
    .where(eq(modelSyncs.id, id))
    .returning();
  return row!;
}

export async function deleteModelSync(core: Core, actor: Actor, id: string): Promise<void> {
  await getModelSync(core, actor, id);
  // Its run stops too: nothing reads or writes in the name of a deleted sync.
  await cancelModelSync(core, actor, id).catch((error: unknown) => {
    if (!(error instanceof FerryError && error.code === 'conflict')) throw error; // no active run
  });
  await core.store.db.delete(modelSyncs).where(eq(modelSyncs.id, id));
}

export async function setModelSyncActive(core: Core, actor: Actor, id: string, active: boolean) {
  await getModelSync(core, actor, id);
  const [row] = await core.store.db
    .update(modelSyncs)
    .set({ active, updatedAt: sql`now()` })
    .where(eq(modelSyncs.id, id))
    .returning();
  return row!;
}

/** `GET /api/connections/{id}/modelsync/targetobjects`: the objects a sync may write to. */
export async function modelSyncTargetObjects(core: Core, actor: Actor, connectionId: string) {
  await getConnection(core, actor, connectionId);
  return listTargetObjects(core, connectionId);
}

/** `GET /api/connections/{id}/modelsync/target/fields`: one target object with its fields. */
export async function modelSyncTarget(
  core: Core,
  actor: Actor,
  connectionId: string,
  object: string,
): Promise<ModelTargetInfo> {
  await getConnection(core, actor, connectionId);
  return describeTarget(core, connectionId, object);
}

/** Checks a sync's configuration against its model and target; returns the columns to store. */
async function checkModelSync(core: Core, actor: Actor, input: ModelSyncInput) {
  validateSchedule(input.schedule as unknown as Schedule);
  await checkRunAfter(core, actor.organizationId, input.schedule as unknown as Schedule);
  const fields = [...input.fields, ...(input.overrideFields ?? [])];
  if (fields.length === 0) {
    throw new FerryError('validation_failed', 'fields: map at least one field', { field: 'fields' });
  }
  const model = await modelOf(core, actor, input);
  const modelFields = new Set(model.fields.map((f) => f.name));
  const checkSource = (ref: { model_id: string; field: string }, at: string) => {
    if (ref.model_id !== model.id) {
      throw new FerryError('validation_failed', `${at}.model_id: a sync reads one model (${model.id})`, {
        field: `${at}.model_id`,
      });
    }
    if (!modelFields.has(ref.field)) {
      throw new FerryError(
        'validation_failed',
        `${at}.field: model ${model.id} has no field "${ref.field}"`,
        {
          field: `${at}.field`,
        },
      );
    }
  };

  const connection = await getConnection(core, actor, input.target.connectionId).catch((error) => {
    if (error instanceof FerryError && error.code === 'not_found') {
      throw new FerryError('validation_failed', `target connection ${input.target.connectionId} not found`, {
        field: 'target.connection_id',
      });
    }
    throw error;
  });
  const target = await describeTarget(core, connection.id, input.target.object);
  if (!target.modes.some((m) => m.mode === input.mode)) {
    throw new FerryError(
      'validation_failed',
      `mode: ${connection.type} targets do not support "${input.mode}"`,
      {
        field: 'mode',
      },
    );
  }
  const targetFields = new Set(target.fields.map((f) => f.id));
  const checkTarget = (name: string, at: string) => {
    if (!target.freeFields && !targetFields.has(name)) {
      throw new FerryError('validation_failed', `${at}: ${input.target.object} has no field "${name}"`, {
        field: at,
      });
    }
  };

  const mapped = new Set<string>();
  fields.forEach((field, i) => {
    const at = i < input.fields.length ? `fields.${i}` : `override_fields.${i - input.fields.length}`;
    if (field.source) checkSource(field.source, `${at}.source`);
    else if (field.override_value === undefined) {
      throw new FerryError('validation_failed', `${at}: give a source field or an override_value`, {
        field: `${at}.source`,
      });
    }
    checkTarget(field.target, `${at}.target`);
    if (mapped.has(field.target)) {
      throw new FerryError('validation_failed', `${at}.target: "${field.target}" is mapped twice`, {
        field: `${at}.target`,
      });
    }
    mapped.add(field.target);
  });

  const identity = input.identity;
  if (identity) {
    checkSource(identity.source, 'identity.source');
    checkTarget(identity.target, 'identity.target');
    if (identity.function !== 'Equality') {
      throw new FerryError('validation_failed', 'identity.function: only Equality is supported', {
        field: 'identity.function',
      });
    }
    // The identity's target takes the identity's value: a field writing something else there would
    // give the rows other identities than the ones records are matched by.
    const clash = fields.findIndex(
      (f) => f.target === identity.target && f.source?.field !== identity.source.field,
    );
    if (clash !== -1) {
      const at =
        clash < input.fields.length ? `fields.${clash}` : `override_fields.${clash - input.fields.length}`;
      throw new FerryError(
        'validation_failed',
        `${at}.target: "${identity.target}" is the identity's target, which takes model field "${identity.source.field}"`,
        { field: `${at}.target` },
      );
    }
  } else if (identityModes.has(input.mode)) {
    throw new FerryError('validation_failed', `identity: mode ${input.mode} needs an identity`, {
      field: 'identity',
    });
  }

  (input.filters ?? []).forEach((filter, i) => {
    checkSource(filter.field, `filters.${i}.field`);
    checkFunction(filter.function, filter.value, `filters.${i}`);
  });
  (input.overrides ?? []).forEach((override, i) => {
    checkSource(override.field, `overrides.${i}.field`);
    checkFunction(override.function, override.value, `overrides.${i}`);
  });
  if (input.filterLogic && !/^\s*(and|or)?\s*$/i.test(input.filterLogic)) {
    throw new FerryError(
      'validation_failed',
      'filter_logic: only "and" or "or" across all filters is supported',
      {
        field: 'filter_logic',
      },
    );
  }

  return {
    name: input.name,
    modelId: model.id,
    targetConnectionId: connection.id,
    targetObject: target.id,
    targetConfiguration: input.target.configuration ?? {},
    mode: input.mode,
    fields,
    identity: identity ?? null,
    filters: input.filters ?? [],
    filterLogic: input.filterLogic?.trim().toLowerCase() || null,
    overrides: input.overrides ?? [],
    schedule: input.schedule,
    active: input.active ?? true,
    syncAllRecords: input.syncAllRecords ?? false,
  };
}

const isScalar = (value: unknown) => ['string', 'number', 'boolean'].includes(typeof value);

/**
 * A filter's (or override's) function and the value it compares with: a function that compares takes
 * a value (a missing one would compare with "" and keep or drop every record), lists and pairs take an
 * array or comma-separated text.
 */
function checkFunction(name: string, value: unknown, at: string): void {
  if (!filterFunctions.includes(name)) {
    throw new FerryError('validation_failed', `${at}.function: unsupported function "${name}"`, {
      field: `${at}.function`,
    });
  }
  const kind = filterValueKind(name);
  const items = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : undefined;
  const expected =
    kind === 'scalar' && !isScalar(value)
      ? 'a string, number or boolean value'
      : kind === 'list' && !(items?.length && items.every(isScalar))
        ? 'a non-empty array of values (or comma-separated text)'
        : kind === 'pair' && !(items?.length === 2 && items.every(isScalar))
          ? 'two values: [from, to] (or "from,to")'
          : undefined;
  if (expected) {
    throw new FerryError('validation_failed', `${at}.value: ${name} takes ${expected}`, {
      field: `${at}.value`,
    });
  }
}

/** The one model a sync reads: the model of its first source reference. */
async function modelOf(core: Core, actor: Actor, input: ModelSyncInput): Promise<ModelRow> {
  const ref =
    input.identity?.source ??
    [...input.fields, ...(input.overrideFields ?? [])].find((f) => f.source)?.source;
  if (!ref) {
    throw new FerryError('validation_failed', 'fields: map at least one model field', {
      field: 'fields.0.source',
    });
  }
  const [model] = await core.store.db
    .select()
    .from(models)
    .where(and(eq(models.id, ref.model_id), eq(models.organizationId, actor.organizationId)));
  if (!model) {
    throw new FerryError('validation_failed', `model ${ref.model_id} not found`, {
      field: input.identity ? 'identity.source.model_id' : 'fields.0.source.model_id',
    });
  }
  return model;
}

/** Page tokens name the last row of a page; the next page starts after it. */
export const encodePageToken = (id: string) => Buffer.from(id).toString('base64url');

export function decodePageToken(token: string): string {
  const id = Buffer.from(token, 'base64url').toString('utf8');
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) {
    throw new FerryError('validation_failed', 'page_token is not a token returned by this API', {
      field: 'page_token',
    });
  }
  return id;
}
