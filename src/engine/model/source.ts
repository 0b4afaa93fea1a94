import type { Readable } from 'node:stream';
import type { SqlDialect } from '../../connectors/filter-sql.ts';
import type { FieldInfo, Row } from '../../connectors/types.ts';
import { quoteIdent, quoteLiteral, stripTrailingSemicolons } from '../../connectors/values.ts';
import { FerryError } from '../../domain/errors.ts';
import { openConnectorById, openTableReader } from '../../services/connections.ts';
import type { Core } from '../../services/context.ts';
import type { ModelFieldInfo } from '../../store/schema.ts';
import type { RowBatch, TableReader } from '../bulk/contracts.ts';
import type { ValueSource } from './plan.ts';
import { type RecordHash, recordHashSql } from './record-hash.ts';

/** What a model reads: a read-only SQL query or one table ("schema id") of its connection. */
export interface ModelConfiguration {
  query?: string | undefined;
  table?: string | undefined;
}

/** Readers that can also stream an arbitrary read-only query (PostgreSQL, MySQL/MariaDB). */
interface QueryReader extends TableReader {
  readonly queryDialect: SqlDialect;
  describeQuery(query: string): Promise<FieldInfo[]>;
  /** `batchRows`: rows per batch at most, where the reader lets the caller choose (PostgreSQL). */
  readQuery(query: string, width: number, signal: AbortSignal, batchRows?: number): AsyncIterable<RowBatch>;
}

const isQueryReader = (reader: TableReader): reader is QueryReader =>
  'describeQuery' in reader && 'readQuery' in reader;

/** Readers that hand out a query's rows as raw COPY text (PostgreSQL). */
interface CopyQueryReader extends TableReader {
  copyQueryText(query: string, options: { parallel: boolean; signal: AbortSignal }): Readable;
}

const isCopyQueryReader = (reader: TableReader): reader is CopyQueryReader => 'copyQueryText' in reader;

/**
 * Rows a SQL model reads through a connector's plain query runner (SQLite, DuckDB, files), whose
 * results are held in memory; PostgreSQL and MySQL queries and every table model stream instead.
 */
export const bufferedQueryRowLimit = 1_000_000;

export function checkModelConfiguration(configuration: ModelConfiguration): void {
  const query = configuration.query?.trim();
  const table = configuration.table?.trim();
  if (!query === !table) {
    throw new FerryError('validation_failed', 'configuration: give exactly one of "query" or "table"', {
      field: 'configuration',
    });
  }
}

const fieldOut = (field: FieldInfo): ModelFieldInfo => ({
  name: field.name,
  remote_type: field.remoteType,
  type: field.type,
  logical_type: field.logicalType,
  nullable: field.nullable,
});

/** A model's table the connection does not have (a 422: the model exists, its table does not). */
const noTable = (table: string) =>
  new FerryError('validation_failed', `configuration.table: the connection has no table "${table}"`, {
    field: 'configuration.table',
  });

/** The fields of a model's result, as its source describes them; a bad query or table is a 4xx. */
export async function describeModel(
  core: Core,
  connectionId: string,
  configuration: ModelConfiguration,
): Promise<ModelFieldInfo[]> {
  checkModelConfiguration(configuration);
  if (configuration.table) {
    const table = configuration.table;
    const schema = await openConnectorById(core, connectionId, (connector) => connector.getSchema(table));
    if (!schema) throw noTable(table);
    return schema.fields.map(fieldOut);
  }
  const query = configuration.query!;
  const reader = await openTableReader(core, connectionId).catch(() => undefined);
  try {
    if (reader && isQueryReader(reader)) return (await reader.describeQuery(query)).map(fieldOut);
  } finally {
    await reader?.close().catch(() => {});
  }
  const result = await openConnectorById(core, connectionId, (connector) => connector.query(query, 1));
  return result.fields.map((name) => inferredField(name, result.rows[0]?.[name]));
}

/** Type of a buffered query's column, from the JSON-safe value of its first row. */
function inferredField(name: string, sample: unknown): ModelFieldInfo {
  const base = { name, nullable: true };
  if (typeof sample === 'number')
    return { ...base, remote_type: 'number', type: 'number', logical_type: { kind: 'float64' } };
  if (typeof sample === 'boolean')
    return { ...base, remote_type: 'boolean', type: 'boolean', logical_type: { kind: 'boolean' } };
  if (sample !== null && typeof sample === 'object')
    return { ...base, remote_type: 'json', type: 'object', logical_type: { kind: 'json' } };
  return { ...base, remote_type: 'text', type: 'string', logical_type: { kind: 'text' } };
}

/** Up to `limit` records of the model, JSON-safe (model samples and previews). */
export async function sampleModel(
  core: Core,
  connectionId: string,
  configuration: ModelConfiguration,
  limit: number,
): Promise<Row[]> {
  checkModelConfiguration(configuration);
  const table = configuration.table;
  return openConnectorById(core, connectionId, async (connector) =>
    table
      ? connector.sampleRecords(table, limit).catch((error: unknown) => {
          // The table was dropped since: not a 404 of the model being sampled.
          throw error instanceof FerryError && error.code === 'not_found' ? noTable(table) : error;
        })
      : (await connector.query(configuration.query!, limit)).rows,
  );
}

/**
 * Streams every row of a model as text (the bulk engine's value convention), values in `fields`
 * order. Aborting `signal` stops the query in the source. `batchRows`: at most this many rows a batch
 * from a PostgreSQL query or a buffered one (the other readers batch as they do).
 */
export async function* readModel(
  core: Core,
  connectionId: string,
  configuration: ModelConfiguration,
  fields: ModelFieldInfo[],
  signal: AbortSignal,
  batchRows?: number,
): AsyncGenerator<RowBatch> {
  checkModelConfiguration(configuration);
  const reader = await openTableReader(core, connectionId).catch((error) => {
    if (configuration.table) throw error;
    return undefined;
  });
  try {
    if (configuration.table) {
      const columns = fields.map((f) => ({
        source: f.name,
        name: f.name,
        type: f.logical_type,
        nullable: f.nullable,
      }));
      yield* reader!.read({ schemaId: configuration.table, columns, primaryKey: [], signal });
      return;
    }
    if (reader && isQueryReader(reader)) {
      yield* reader.readQuery(configuration.query!, fields.length, signal, batchRows);
      return;
    }
  } finally {
    await reader?.close().catch(() => {});
  }
  const result = await openConnectorById(core, connectionId, (connector) =>
    connector.query(configuration.query!, bufferedQueryRowLimit),
  );
  const rows = batchRows ?? 5_000;
  for (let start = 0; start < result.rows.length; start += rows) {
    if (signal.aborted) throw signal.reason;
    yield result.rows.slice(start, start + rows).map((row) => fields.map((field) => textOf(row[field.name])));
  }
}

/** A JSON-safe value as PostgreSQL text. */
function textOf(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'boolean') return value ? 't' : 'f';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** The target values of a record and its identity, each a model field or a constant, and the target's hash. */
export interface RecordSpec {
  identityField: string;
  values: ValueSource[];
  hash: RecordHash;
}

/** The model as a relation SQL can select from (`m`): its query, or its table. */
function modelRelation(configuration: ModelConfiguration, ident = quoteIdent): string {
  if (configuration.query) return `(${stripTrailingSemicolons(configuration.query)}\n) m`;
  const name = configuration.table!;
  const dot = name.indexOf('.');
  const qualified = dot === -1 ? ident(name) : `${ident(name.slice(0, dot))}.${ident(name.slice(dot + 1))}`;
  return `${qualified} m`;
}

/** SQL of a record's identity and values; `format('%s', …)` prints with the type's output function, as COPY does. */
function recordSql(spec: RecordSpec) {
  return {
    identity: `format('%s', m.${quoteIdent(spec.identityField)})`,
    values: spec.values.map((v) =>
      'field' in v
        ? `m.${quoteIdent(v.field)}`
        : v.constant === null
          ? 'null::text'
          : `${quoteLiteral(v.constant)}::text`,
    ),
  };
}

/**
 * A query over the model as COPY text straight from a PostgreSQL source (undefined for other sources);
 * the stream's end closes the source connection.
 */
async function copyFromSource(
  core: Core,
  connectionId: string,
  sql: string,
  options: { parallel: boolean; signal: AbortSignal },
): Promise<Readable | undefined> {
  const reader = await openTableReader(core, connectionId).catch(() => undefined);
  if (!reader || !isCopyQueryReader(reader)) {
    await reader?.close().catch(() => {});
    return undefined;
  }
  const stream = reader.copyQueryText(sql, options);
  stream.once('close', () => void reader.close().catch(() => {}));
  return stream;
}

/**
 * Per model row, `identity<TAB>hash` as COPY text, computed in the source: the identity's text and the
 * hash of the row of target values that the PostgreSQL target keeps (`record_out` prints each value
 * with its type's output function, as COPY does, so the text and the typed row hash alike).
 * In any order: the scan may use parallel workers.
 */
export function hashModelRows(
  core: Core,
  connectionId: string,
  configuration: ModelConfiguration,
  spec: RecordSpec,
  signal: AbortSignal,
): Promise<Readable | undefined> {
  const { identity, values } = recordSql(spec);
  const sql = `select ${identity}, ${recordHashSql(spec.hash, values)} from ${modelRelation(configuration)}`;
  return copyFromSource(core, connectionId, sql, { parallel: true, signal });
}

/**
 * The model's records as COPY text `identity<TAB>hash<TAB>value…`, in model order, as the source prints
 * them: the text the bulk reader would hand Ferry, without Ferry parsing and printing it again. The
 * hash is `hashModelRows`' (the source computes it while the target is busy writing).
 */
export function copyModelRecords(
  core: Core,
  connectionId: string,
  configuration: ModelConfiguration,
  spec: RecordSpec,
  signal: AbortSignal,
): Promise<Readable | undefined> {
  const { identity, values } = recordSql(spec);
  const sql = `select ${identity}, ${recordHashSql(spec.hash, values)}, ${values.join(', ')} from ${modelRelation(configuration)}`;
  return copyFromSource(core, connectionId, sql, { parallel: false, signal });
}

/** The model's rows that meet `condition` (over `m`), fields in order. */
function modelWhere(
  configuration: ModelConfiguration,
  fields: ModelFieldInfo[],
  condition: string,
  ident = quoteIdent,
): ModelConfiguration {
  return {
    query: `select ${fields.map((f) => `m.${ident(f.name)}`).join(', ')} from ${modelRelation(configuration, ident)}
      where ${condition}`,
  };
}

/** The model restricted to the rows whose identity (as text) is one of `identities`, fields in order. */
export function modelSubset(
  configuration: ModelConfiguration,
  fields: ModelFieldInfo[],
  identityField: string,
  identities: string[],
): ModelConfiguration {
  const array = `{${identities.map((id) => `"${id.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`).join(',')}}`;
  return modelWhere(
    configuration,
    fields,
    `format('%s', m.${quoteIdent(identityField)}) in (select unnest(${quoteLiteral(array)}::text[]))`,
  );
}

/**
 * What a run tracks of a model (PostgreSQL and MySQL/MariaDB sources; undefined for others): with
 * `marks`, the model restricted to the rows that reached one (any tracking column at or above its mark,
 * or, where no mark was taken yet, holding a value at all); and the greatest value of each column among
 * the rows it reads, as the source prints it (null: none). Marks are compared as string literals, which
 * both databases read as the column's type.
 */
export async function trackedModel(
  core: Core,
  connectionId: string,
  model: { configuration: ModelConfiguration; fields: ModelFieldInfo[] },
  columns: string[],
  marks: (string | null)[] | undefined,
  signal: AbortSignal,
): Promise<{ changed: ModelConfiguration | undefined; maxima: (string | null)[] } | undefined> {
  const reader = await openTableReader(core, connectionId).catch(() => undefined);
  try {
    if (!reader || !isQueryReader(reader)) return undefined;
    const { ident, literal, asText } = reader.queryDialect;
    const column = (name: string) => `m.${ident(name)}`;
    const reached = marks?.map((mark, i) => {
      const name = column(columns[i]!);
      return mark == null ? `${name} is not null` : `${name} >= ${literal(mark)}`;
    });
    const changed = reached && modelWhere(model.configuration, model.fields, reached.join(' or '), ident);
    const maxima = `select ${columns.map((name) => asText(`max(${column(name)})`)).join(', ')}
      from ${modelRelation(changed ?? model.configuration, ident)}`;
    let row: (string | null)[] = columns.map(() => null);
    for await (const batch of reader.readQuery(maxima, columns.length, signal)) row = batch[0] ?? row;
    return { changed, maxima: row };
  } finally {
    await reader?.close().catch(() => {});
  }
}
