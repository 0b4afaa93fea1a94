import { and, asc, eq, sql } from 'drizzle-orm';
import type { z } from 'zod';
import { connectorTypes, getConnectorType } from '../connectors/registry.ts';
import type { Connector, ConnectorType, QueryResult, Row, SchemaInfo } from '../connectors/types.ts';
import { FerryError, notFound } from '../domain/errors.ts';
import { type ConnectionRow, connectionSchemaCaches, connections } from '../store/schema.ts';
import { type Actor, type Core, targetOrganization } from './context.ts';

/** Shown in place of a stored secret; sending it back on update keeps the stored value. */
export const redacted = '********';

export interface ConnectionInput {
  name: string;
  type: string;
  configuration: Record<string, unknown>;
  validate?: boolean | undefined;
  organizationId?: string | undefined;
}

export interface ConnectionView extends Omit<ConnectionRow, 'secrets'> {
  connectorType: ConnectorType;
}

export const listConnectionTypes = (): readonly ConnectorType[] => connectorTypes;

export function getConnectionType(id: string): ConnectorType {
  const type = getConnectorType(id);
  if (!type) throw notFound('connection type', id);
  return type;
}

export async function listConnections(core: Core, actor: Actor): Promise<ConnectionView[]> {
  const rows = await core.store.db
    .select()
    .from(connections)
    .where(eq(connections.organizationId, actor.organizationId))
    .orderBy(asc(connections.createdAt));
  return rows.map((row) => present(core, row));
}

export async function getConnection(core: Core, actor: Actor, id: string): Promise<ConnectionView> {
  return present(core, await loadConnection(core, actor, id));
}

export async function createConnection(
  core: Core,
  actor: Actor,
  input: ConnectionInput,
): Promise<ConnectionView> {
  const organizationId = targetOrganization(actor, input.organizationId);
  const type = resolveType(input.type);
  const config = parseConfiguration(type, input.configuration);
  if (input.validate !== false) await probe(type, config);
  const [row] = await core.store.db
    .insert(connections)
    .values({
      organizationId,
      name: input.name,
      type: type.id,
      createdBy: actor.userId,
      ...seal(core, type, config),
      status: input.validate === false ? 'unchecked' : 'healthy',
    })
    .returning();
  return present(core, row!);
}

export async function updateConnection(
  core: Core,
  actor: Actor,
  id: string,
  input: Omit<ConnectionInput, 'type'> & { type?: string | undefined },
): Promise<ConnectionView> {
  const current = await loadConnection(core, actor, id);
  if (input.type && input.type !== current.type) {
    throw new FerryError('validation_failed', 'the type of a connection cannot change', { field: 'type' });
  }
  const type = resolveType(current.type);
  const config = parseConfiguration(type, keepStoredSecrets(core, type, current, input.configuration));
  if (input.validate !== false) await probe(type, config);
  const [row] = await core.store.db
    .update(connections)
    .set({
      name: input.name,
      ...seal(core, type, config),
      status: input.validate === false ? 'unchecked' : 'healthy',
      statusError: null,
      updatedAt: sql`now()`,
    })
    .where(eq(connections.id, id))
    .returning();
  // The schemas a new configuration sees may differ: drop what the old one cached.
  await core.store.db.delete(connectionSchemaCaches).where(eq(connectionSchemaCaches.connectionId, id));
  return present(core, row!);
}

export async function deleteConnection(core: Core, actor: Actor, id: string): Promise<void> {
  await loadConnection(core, actor, id);
  await core.store.db.delete(connections).where(eq(connections.id, id));
}

/**
 * Tests a configuration without saving it. With `connectionId`, the configuration is merged over
 * that connection's stored one (so a form can test a change without re-entering the password).
 */
export async function testConnection(
  core: Core,
  actor: Actor,
  input: { type: string; configuration: Record<string, unknown>; connectionId?: string | undefined },
): Promise<void> {
  const type = resolveType(input.type);
  let configuration = input.configuration;
  if (input.connectionId) {
    const current = await loadConnection(core, actor, input.connectionId);
    configuration = { ...configurationOf(core, current), ...input.configuration };
    configuration = keepStoredSecrets(core, type, current, configuration);
  }
  await probe(type, parseConfiguration(type, configuration));
}

/** Opens a connector on a stored connection and always closes it. */
export async function withConnector<T>(
  core: Core,
  actor: Actor,
  id: string,
  fn: (connector: Connector, row: ConnectionRow) => Promise<T>,
): Promise<T> {
  const row = await loadConnection(core, actor, id);
  return runOnConnector(core, row, (connector) => fn(connector, row));
}

/** The schemas of a connection: from the cache when it has been introspected, live otherwise. */
export async function listSchemas(core: Core, actor: Actor, id: string): Promise<SchemaInfo[]> {
  const row = await loadConnection(core, actor, id);
  const [cache] = await core.store.db
    .select()
    .from(connectionSchemaCaches)
    .where(eq(connectionSchemaCaches.connectionId, id));
  if (cache?.refreshFinishedAt && cache.status !== 'failed') return cache.schemas;
  const schemas = await runOnConnector(core, row, (connector) => connector.listSchemas());
  await saveSchemaCache(core, id, { schemas, status: 'fresh', error: null });
  return schemas;
}

/** Re-introspects a connection now and replaces its cached schemas. */
export async function refreshSchemaCache(core: Core, actor: Actor, id: string): Promise<SchemaInfo[]> {
  const row = await loadConnection(core, actor, id);
  const schemas = await runOnConnector(core, row, (connector) => connector.listSchemas());
  await saveSchemaCache(core, id, { schemas, status: 'fresh', error: null });
  return schemas;
}

export async function getSchema(core: Core, actor: Actor, id: string, schemaId: string): Promise<SchemaInfo> {
  const schema = await withConnector(core, actor, id, (connector) => connector.getSchema(schemaId));
  if (!schema) throw notFound('schema', schemaId);
  return schema;
}

export async function sampleRecords(core: Core, actor: Actor, id: string, schemaId: string, limit: number) {
  return withConnector(core, actor, id, async (connector): Promise<Row[]> => {
    if (!(await connector.getSchema(schemaId))) throw notFound('schema', schemaId);
    return connector.sampleRecords(schemaId, limit);
  });
}

export interface SchemaRefreshStatus {
  status: 'never' | 'refreshing' | 'fresh' | 'failed';
  error: string | null;
  jobId: string | null;
  startedAt: Date | null;
  finishedAt: Date | null;
}

/** Starts an asynchronous re-introspection (job `schemarefresh`); repeated calls join the queued one. */
export async function refreshSchemas(core: Core, actor: Actor, id: string): Promise<SchemaRefreshStatus> {
  const row = await loadConnection(core, actor, id);
  const jobId = await core.queue.enqueue(
    'schemarefresh',
    { organizationId: row.organizationId, connectionId: id },
    { singletonKey: id },
  );
  await core.store.db
    .insert(connectionSchemaCaches)
    .values({ connectionId: id, status: 'refreshing', jobId, refreshStartedAt: sql`now()` })
    .onConflictDoUpdate({
      target: connectionSchemaCaches.connectionId,
      set: { status: 'refreshing', jobId, error: null, refreshStartedAt: sql`now()` },
    });
  return schemaStatus(core, actor, id);
}

export async function schemaStatus(core: Core, actor: Actor, id: string): Promise<SchemaRefreshStatus> {
  await loadConnection(core, actor, id);
  const [cache] = await core.store.db
    .select()
    .from(connectionSchemaCaches)
    .where(eq(connectionSchemaCaches.connectionId, id));
  if (!cache) return { status: 'never', error: null, jobId: null, startedAt: null, finishedAt: null };
  return {
    status: cache.status,
    error: cache.error,
    jobId: cache.jobId,
    startedAt: cache.refreshStartedAt,
    finishedAt: cache.refreshFinishedAt,
  };
}

/** Job handler of `schemarefresh`: introspects and replaces the cache; failures are recorded, then rethrown. */
export async function runSchemaRefresh(core: Core, connectionId: string): Promise<{ schemas: number }> {
  const [row] = await core.store.db.select().from(connections).where(eq(connections.id, connectionId));
  if (!row) return { schemas: 0 };
  try {
    const schemas = await runOnConnector(core, row, (connector) => connector.listSchemas());
    await saveSchemaCache(core, connectionId, { schemas, status: 'fresh', error: null });
    return { schemas: schemas.length };
  } catch (error) {
    const message = error instanceof FerryError ? error.message : 'introspection failed';
    await core.store.db
      .update(connectionSchemaCaches)
      .set({ status: 'failed', error: message, refreshFinishedAt: sql`now()` })
      .where(eq(connectionSchemaCaches.connectionId, connectionId));
    throw error;
  }
}

/** Starts a query on a connection (job `query`); results are read with `GET /api/queries/{id}`. */
export async function startQuery(core: Core, actor: Actor, id: string, query: string): Promise<string> {
  const row = await loadConnection(core, actor, id);
  return core.queue.enqueue('query', { organizationId: row.organizationId, connectionId: id, query });
}

export const queryRowLimit = 1000;

/** Job handler of `query`. */
export async function runQuery(core: Core, connectionId: string, query: string): Promise<QueryResult> {
  const [row] = await core.store.db.select().from(connections).where(eq(connections.id, connectionId));
  if (!row) throw notFound('connection', connectionId);
  return runOnConnector(core, row, (connector) => connector.query(query, queryRowLimit));
}

async function loadConnection(core: Core, actor: Actor, id: string): Promise<ConnectionRow> {
  const [row] = await core.store.db
    .select()
    .from(connections)
    .where(and(eq(connections.id, id), eq(connections.organizationId, actor.organizationId)));
  if (!row) throw notFound('connection', id);
  return row;
}

async function runOnConnector<T>(
  core: Core,
  row: ConnectionRow,
  fn: (connector: Connector) => Promise<T>,
): Promise<T> {
  const type = resolveType(row.type);
  const connector = await type.open(parseConfiguration(type, configurationOf(core, row)));
  try {
    return await fn(connector);
  } finally {
    await connector.close().catch(() => {});
  }
}

async function saveSchemaCache(
  core: Core,
  connectionId: string,
  values: { schemas: SchemaInfo[]; status: 'fresh'; error: null },
): Promise<void> {
  await core.store.db
    .insert(connectionSchemaCaches)
    .values({ connectionId, ...values, refreshStartedAt: sql`now()`, refreshFinishedAt: sql`now()` })
    .onConflictDoUpdate({
      target: connectionSchemaCaches.connectionId,
      set: { ...values, refreshFinishedAt: sql`now()` },
    });
}

function resolveType(id: string): ConnectorType {
  const type = getConnectorType(id);
  if (!type) {
    const known = connectorTypes.map((t) => t.id).join(', ');
    throw new FerryError('validation_failed', `unknown connection type "${id}" (known: ${known})`, {
      field: 'type',
    });
  }
  return type;
}

function parseConfiguration(
  type: ConnectorType,
  configuration: Record<string, unknown>,
): Record<string, unknown> {
  const parsed = (type.configSchema as z.ZodType<Record<string, unknown>>).safeParse(configuration);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = ['configuration', ...issue.path.map(String)].join('.');
  throw new FerryError('validation_failed', `${field}: ${issue.message}`, { field });
}

async function probe(type: ConnectorType, config: Record<string, unknown>): Promise<void> {
  const connector = await type.open(config);
  try {
    await connector.test();
  } finally {
    await connector.close().catch(() => {});
  }
}

/** Splits a configuration into its plain part and its encrypted secrets. */
function seal(core: Core, type: ConnectorType, config: Record<string, unknown>) {
  const configuration: Record<string, unknown> = {};
  const secrets: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    (type.secretFields.includes(key) ? secrets : configuration)[key] = value;
  }
  return { configuration, secrets: Object.keys(secrets).length > 0 ? core.secrets.encrypt(secrets) : null };
}

function configurationOf(core: Core, row: ConnectionRow): Record<string, unknown> {
  return { ...row.configuration, ...(row.secrets ? core.secrets.decrypt(row.secrets) : {}) };
}

function keepStoredSecrets(
  core: Core,
  type: ConnectorType,
  row: ConnectionRow,
  configuration: Record<string, unknown>,
): Record<string, unknown> {
  const stored = row.secrets ? core.secrets.decrypt(row.secrets) : {};
  const merged = { ...configuration };
  for (const key of type.secretFields) {
    if ((merged[key] === undefined || merged[key] === redacted) && stored[key] !== undefined)
      merged[key] = stored[key];
  }
  return merged;
}

function present(core: Core, row: ConnectionRow): ConnectionView {
  const { secrets, ...rest } = row;
  const stored = secrets ? core.secrets.decrypt(secrets) : {};
  const configuration = { ...row.configuration };
  for (const key of Object.keys(stored)) configuration[key] = redacted;
  return { ...rest, configuration, connectorType: resolveType(row.type) };
}

/** Opens a connector on a connection by id, without tenancy checks (workers act for the run's owner). */
export async function openConnectorById<T>(
  core: Core,
  connectionId: string,
  fn: (connector: Connector) => Promise<T>,
) {
  const [row] = await core.store.db.select().from(connections).where(eq(connections.id, connectionId));
  if (!row) throw notFound('connection', connectionId);
  return runOnConnector(core, row, fn);
}

/** Opens the bulk reader of a stored connection (the caller closes it). Used by the bulk engine. */
export async function openTableReader(core: Core, connectionId: string) {
  const { type, config } = await connectionEndpoint(core, connectionId);
  if (!type.openReader)
    throw new FerryError('validation_failed', `a ${type.id} connection cannot be a bulk source`);
  return type.openReader(config);
}

/** Opens the bulk writer of a stored connection (the caller closes it). Used by the bulk engine. */
export async function openTableWriter(core: Core, connectionId: string) {
  const { type, config } = await connectionEndpoint(core, connectionId);
  if (!type.openWriter)
    throw new FerryError('validation_failed', `a ${type.id} connection cannot be a bulk destination`);
  return { writer: await type.openWriter(config), typeId: type.id };
}

/** The type and decrypted configuration of a stored connection, without tenancy checks (workers). */
export async function connectionEndpoint(core: Core, connectionId: string) {
  const [row] = await core.store.db.select().from(connections).where(eq(connections.id, connectionId));
  if (!row) throw notFound('connection', connectionId);
  const type = resolveType(row.type);
  return { type, config: parseConfiguration(type, configurationOf(core, row)) };
}
