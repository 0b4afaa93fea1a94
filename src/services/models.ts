import { and, asc, eq, sql } from 'drizzle-orm';
import { getConnectorType } from '../connectors/registry.ts';
import type { Row } from '../connectors/types.ts';
import { FerryError, notFound } from '../domain/errors.ts';
import { describeModel, type ModelConfiguration, sampleModel } from '../engine/model/source.ts';
import { type ModelFieldInfo, type ModelRow, modelSyncs, models } from '../store/schema.ts';
import { getConnection, listSchemas } from './connections.ts';
import { type Actor, type Core, targetOrganization } from './context.ts';

export interface ModelInput {
  name: string;
  connectionId: string;
  configuration: ModelConfiguration;
  identifier?: string | undefined;
  labels?: string[] | undefined;
  /** Fields whose greatest values tell a later run which rows can have changed (see `tracking.ts`). */
  trackingColumns?: string[] | undefined;
  organizationId?: string | undefined;
}

/** A model as it would be saved, with the fields its source reports (`POST /api/model-preview`). */
export interface ModelPreview {
  name: string;
  connectionId: string;
  configuration: ModelConfiguration;
  identifier: string | null;
  trackingColumns: string[];
  fields: ModelFieldInfo[];
  organizationId: string;
}

export const maxSampleRecords = 100;

export async function listModels(core: Core, actor: Actor): Promise<ModelRow[]> {
  return core.store.db
    .select()
    .from(models)
    .where(eq(models.organizationId, actor.organizationId))
    .orderBy(asc(models.createdAt));
}

export async function getModel(core: Core, actor: Actor, id: string): Promise<ModelRow> {
  const [row] = await core.store.db
    .select()
    .from(models)
    .where(and(eq(models.id, id), eq(models.organizationId, actor.organizationId)));
  if (!row) throw notFound('model', id);
  return row;
}

/** Checks a model against its source (the query runs, the table exists, the identifier is a field). */
export async function previewModel(core: Core, actor: Actor, input: ModelInput): Promise<ModelPreview> {
  const organizationId = targetOrganization(actor, input.organizationId);
  const scoped = { ...actor, organizationId };
  const connection = await getConnection(core, scoped, input.connectionId).catch((error) => {
    if (error instanceof FerryError && error.code === 'not_found') {
      throw new FerryError('validation_failed', `connection ${input.connectionId} not found`, {
        field: 'connection_id',
      });
    }
    throw error;
  });
  if (!getConnectorType(connection.type)?.capabilities.source) {
    throw new FerryError('validation_failed', `a ${connection.type} connection cannot be a model source`, {
      field: 'connection_id',
    });
  }
  const configuration: ModelConfiguration = input.configuration.table
    ? { table: input.configuration.table }
    : { query: input.configuration.query };
  const fields = await describeModel(core, input.connectionId, configuration);
  if (fields.length === 0) {
    throw new FerryError('validation_failed', 'the model has no fields', { field: 'configuration' });
  }
  const names = new Set(fields.map((f) => f.name));
  if (names.size !== fields.length) {
    throw new FerryError('validation_failed', 'the model has two fields of the same name; alias them', {
      field: 'configuration.query',
    });
  }
  if (input.identifier !== undefined && !names.has(input.identifier)) {
    throw new FerryError('validation_failed', `identifier: the model has no field "${input.identifier}"`, {
      field: 'identifier',
    });
  }
  const trackingColumns = [...new Set(input.trackingColumns ?? [])];
  const untracked = trackingColumns.filter((name) => !names.has(name));
  if (untracked.length > 0) {
    throw new FerryError(
      'validation_failed',
      `tracking_columns: the model has no field ${untracked.map((name) => `"${name}"`).join(', ')}`,
      { field: 'tracking_columns' },
    );
  }
  return {
    name: input.name,
    connectionId: input.connectionId,
    configuration,
    identifier: input.identifier ?? null,
    trackingColumns,
    fields,
    organizationId,
  };
}

export async function createModel(core: Core, actor: Actor, input: ModelInput): Promise<ModelRow> {
  const preview = await previewModel(core, actor, input);
  const [row] = await core.store.db
    .insert(models)
    .values({
      organizationId: preview.organizationId,
      connectionId: preview.connectionId,
      name: preview.name,
      configuration: preview.configuration,
      fields: preview.fields,
      identifier: preview.identifier,
      trackingColumns: preview.trackingColumns,
      labels: input.labels ?? [],
      createdBy: actor.userId,
    })
    .returning();
  return row!;
}

/**
 * Replaces the model's definition; its fields are described again from the source. Labels and tracking
 * columns left out stay as they were. The new version makes the syncs' tracking marks stale.
 */
export async function updateModel(
  core: Core,
  actor: Actor,
  id: string,
  input: ModelInput,
): Promise<ModelRow> {
  const current = await getModel(core, actor, id);
  const preview = await previewModel(core, actor, {
    ...input,
    trackingColumns: input.trackingColumns ?? current.trackingColumns,
    organizationId: current.organizationId,
  });
  const [row] = await core.store.db
    .update(models)
    .set({
      connectionId: preview.connectionId,
      name: preview.name,
      configuration: preview.configuration,
      fields: preview.fields,
      identifier: preview.identifier,
      trackingColumns: preview.trackingColumns,
      labels: input.labels ?? current.labels,
      version: sql`${models.version} + 1`,
      updatedAt: sql`now()`,
    })
    .where(eq(models.id, id))
    .returning();
  return row!;
}

export async function deleteModel(core: Core, actor: Actor, id: string): Promise<void> {
  await getModel(core, actor, id);
  const users = await core.store.db
    .select({ id: modelSyncs.id })
    .from(modelSyncs)
    .where(eq(modelSyncs.modelId, id));
  if (users.length > 0) {
    throw new FerryError(
      'conflict',
      `model ${id} is used by sync(s) ${users.map((u) => u.id).join(', ')}; delete them first`,
    );
  }
  await core.store.db.delete(models).where(eq(models.id, id));
}

export async function sampleModelRecords(core: Core, actor: Actor, id: string): Promise<Row[]> {
  const model = await getModel(core, actor, id);
  return sampleModel(core, model.connectionId, model.configuration, maxSampleRecords);
}

/**
 * `GET /api/connections/{id}/modelsync/source`: what a model on this connection can be, a query or
 * one of its tables (listed as the items of `table`).
 */
export async function modelSyncSource(core: Core, actor: Actor, connectionId: string) {
  const connection = await getConnection(core, actor, connectionId);
  if (!getConnectorType(connection.type)?.capabilities.source) {
    throw new FerryError('validation_failed', `a ${connection.type} connection cannot be a model source`, {
      field: 'id',
    });
  }
  const schemas = await listSchemas(core, actor, connectionId);
  return {
    configuration: { query: { type: 'string' }, table: { type: 'string' } },
    items: {
      table: {
        has_items: schemas.length > 0,
        items: schemas.map((s) => ({ value: s.id, label: s.id })),
      },
    },
    requires_one_of: ['query', 'table'],
  };
}

/** `GET /api/connections/{id}/modelsync/source/fields`: the fields of `params` (`query` or `table`). */
export async function modelSyncSourceFields(
  core: Core,
  actor: Actor,
  connectionId: string,
  params: Record<string, unknown>,
): Promise<ModelFieldInfo[]> {
  await getConnection(core, actor, connectionId);
  const first = (key: string) => {
    const value = params[key];
    const text = Array.isArray(value) ? value[0] : value;
    return typeof text === 'string' && text.trim() !== '' ? text : undefined;
  };
  return describeModel(core, connectionId, { query: first('query'), table: first('table') }).catch(
    (error) => {
      // The model's `configuration` arrives here as `params` ({"table": [...]}): name the caller's input.
      if (error instanceof FerryError && error.field?.startsWith('configuration')) {
        const field = `params${error.field.slice('configuration'.length)}`;
        throw new FerryError(error.code, error.message.replace(/^configuration(\.\w+)?: /, `${field}: `), {
          field,
          cause: error,
        });
      }
      throw error;
    },
  );
}
