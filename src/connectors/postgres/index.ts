import pg from 'pg';
import type { z } from 'zod';
import { FerryError, notFound } from '../../domain/errors.ts';
import { connectionFailed, parseConfig, queryFailed } from '../errors.ts';
import { serverConfigSchema } from '../server-config.ts';
import type {
  Connector,
  ConnectorType,
  FieldInfo,
  FieldType,
  QueryResult,
  Row,
  SchemaInfo,
} from '../types.ts';
import {
  isoTimestamp,
  quoteIdent,
  rowLimit,
  safeInteger,
  stripTrailingSemicolons,
  toJsonSafeRow,
} from '../values.ts';
import { postgresLogicalType } from './logical-types.ts';
import { PostgresReader } from './reader.ts';
import { openPostgresWriter } from './writer.ts';

const configSchema = serverConfigSchema(5432);

export type PostgresConfig = z.infer<typeof configSchema>;

const CONNECT_TIMEOUT_MS = 5_000;
const STATEMENT_TIMEOUT_MS = 60_000;

// Parsers of this connector's clients only: pg.types.setTypeParser would change every pg client in the process.
const OID = {
  int8: 20,
  bytea: 17,
  date: 1082,
  timestamp: 1114,
  timestamptz: 1184,
  interval: 1186,
  numeric: 1700,
  int8Array: 1016,
  byteaArray: 1001,
  dateArray: 1182,
  timestampArray: 1115,
  timestamptzArray: 1185,
  intervalArray: 1187,
  numericArray: 1231,
  textArray: 1009,
} as const;

const text = (value: string) => value;
const scalarParsers = new Map<number, (value: string) => unknown>([
  [OID.int8, safeInteger],
  [OID.bytea, (value) => Buffer.from(value.slice(2), 'hex').toString('base64')], // bytea_output=hex: `\x…`
  [OID.date, text],
  [OID.timestamp, isoTimestamp],
  [OID.timestamptz, isoTimestamp],
  [OID.interval, text],
  [OID.numeric, text],
]);
const arrayElements = new Map<number, number>([
  [OID.int8Array, OID.int8],
  [OID.byteaArray, OID.bytea],
  [OID.dateArray, OID.date],
  [OID.timestampArray, OID.timestamp],
  [OID.timestamptzArray, OID.timestamptz],
  [OID.intervalArray, OID.interval],
  [OID.numericArray, OID.numeric],
]);

const builtinParser = pg.types.getTypeParser as (oid: number, format?: string) => (value: string) => unknown;
const parseTextArray = builtinParser(OID.textArray, 'text');
const mapDeep = (value: unknown, parse: (value: string) => unknown): unknown =>
  Array.isArray(value)
    ? value.map((item) => mapDeep(item, parse))
    : value === null
      ? null
      : parse(value as string);

const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (format !== 'binary') {
      const scalar = scalarParsers.get(oid);
      if (scalar) return scalar;
      const element = arrayElements.get(oid);
      const parse = element === undefined ? undefined : scalarParsers.get(element);
      if (parse) return (value: string) => mapDeep(parseTextArray(value), parse);
    }
    return pg.types.getTypeParser(oid, format);
  }) as pg.CustomTypesConfig['getTypeParser'],
};

/** SQLSTATE classes that mean "could not reach or log in", not "bad SQL". */
function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return true; // socket errors, timeouts
  return /^(08|28|3D)/.test(code) || ['57P01', '57P02', '57P03', '53300'].includes(code);
}

function connectionField(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (code === '3D000') return 'configuration.database';
  if (code === '28P01') return 'configuration.password';
  if (code === '28000') return 'configuration.username';
  if (code === 'ECONNREFUSED') return 'configuration.port';
  return 'configuration.hostname';
}

interface ColumnRow {
  schema: string;
  name: string;
  column: string | null;
  remote_type: string | null;
  typname: string | null;
  typcategory: string | null;
  base_type: string | null;
  nullable: boolean;
  pk_position: number | null;
}

const INTROSPECTION_SQL = `
  select n.nspname as schema, c.relname as name, a.attname as column,
    format_type(a.atttypid, a.atttypmod) as remote_type,
    coalesce(bt.typname, t.typname)::text as typname,
    coalesce(bt.typcategory, t.typcategory)::text as typcategory,
    format_type(coalesce(bt.oid, t.oid), case when bt.oid is null then a.atttypmod else t.typtypmod end)
      as base_type,
    not coalesce(a.attnotnull, false) as nullable,
    array_position(pk.conkey, a.attnum) as pk_position
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  left join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
  left join pg_catalog.pg_type t on t.oid = a.atttypid
  left join pg_catalog.pg_type bt on t.typtype = 'd' and bt.oid = t.typbasetype
  left join pg_catalog.pg_constraint pk on pk.conrelid = c.oid and pk.contype = 'p'
  where c.relkind in ('r', 'p', 'v', 'm', 'f') and not c.relispartition
    and n.nspname not in ('pg_catalog', 'information_schema')
    and n.nspname !~ '^pg_(toast|temp_)'
    and ($1::text is null or n.nspname || '.' || c.relname = $1)
  order by n.nspname, c.relname, a.attnum`;

function fieldType(typname: string, category: string): FieldType {
  if (category === 'A') return 'array';
  if (typname === 'json' || typname === 'jsonb') return 'object';
  if (typname === 'bytea') return 'binary';
  if (category === 'B') return 'boolean';
  if (category === 'N') return 'number';
  if (typname === 'date' || typname === 'timestamp' || typname === 'timestamptz') return 'datetime';
  return 'string';
}

function toSchemas(rows: ColumnRow[]): SchemaInfo[] {
  const byId = new Map<string, SchemaInfo & { pk: Array<[number, string]> }>();
  for (const row of rows) {
    const id = `${row.schema}.${row.name}`;
    let schema = byId.get(id);
    if (!schema) {
      schema = { id, name: row.name, namespace: row.schema, fields: [], primaryKeys: [], pk: [] };
      byId.set(id, schema);
    }
    if (row.column === null) continue; // a table without columns
    const field: FieldInfo = {
      name: row.column,
      remoteType: row.remote_type ?? 'unknown',
      type: fieldType(row.typname ?? '', row.typcategory ?? ''),
      nullable: row.nullable,
      isPrimaryKey: row.pk_position !== null,
      logicalType: postgresLogicalType(row.typname ?? '', row.typcategory ?? '', row.base_type ?? ''),
    };
    schema.fields.push(field);
    if (row.pk_position !== null) schema.pk.push([row.pk_position, row.column]);
  }
  return [...byId.values()].map(({ pk, ...schema }) => ({
    ...schema,
    primaryKeys: pk.sort((a, b) => a[0] - b[0]).map(([, name]) => name),
  }));
}

class PostgresConnector implements Connector {
  readonly #config: PostgresConfig;
  readonly #pool: pg.Pool;

  constructor(config: PostgresConfig) {
    this.#config = config;
    this.#pool = new pg.Pool({
      host: config.hostname,
      port: config.port,
      database: config.database,
      user: config.username,
      password: config.password ?? '',
      // Like libpq's sslmode=require: encrypted, certificate not verified.
      ssl: config.ssl ? { rejectUnauthorized: false } : false,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      idleTimeoutMillis: 10_000,
      max: 4,
      types,
      application_name: 'ferry',
    });
    // An idle client losing its server must not crash the process; the next checkout reconnects.
    this.#pool.on('error', () => {});
    this.#pool.on('connect', (client) => {
      client
        .query(
          `set timezone = 'UTC'; set datestyle = 'ISO, MDY'; set statement_timeout = ${STATEMENT_TIMEOUT_MS}`,
        )
        .catch(() => {});
    });
  }

  #secrets() {
    return [this.#config.password];
  }

  async #withClient<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const { hostname, port } = this.#config;
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      throw connectionFailed(`Could not connect to PostgreSQL at ${hostname}:${port}`, error, {
        secrets: this.#secrets(),
        field: connectionField(error),
      });
    }
    let broken: Error | undefined;
    try {
      return await work(client);
    } catch (error) {
      if (error instanceof FerryError) throw error;
      if (isConnectionError(error)) {
        broken = error instanceof Error ? error : new Error(String(error));
        throw connectionFailed(`PostgreSQL connection to ${hostname}:${port} failed`, error, {
          secrets: this.#secrets(),
          field: connectionField(error),
        });
      }
      throw queryFailed(error, this.#secrets());
    } finally {
      client.release(broken);
    }
  }

  async test(): Promise<void> {
    await this.#withClient((client) => client.query('select 1'));
  }

  async #introspect(schemaId: string | null): Promise<SchemaInfo[]> {
    return this.#withClient(async (client) => {
      const result = await client.query<ColumnRow>(INTROSPECTION_SQL, [schemaId]);
      return toSchemas(result.rows);
    });
  }

  listSchemas(): Promise<SchemaInfo[]> {
    return this.#introspect(null);
  }

  async getSchema(schemaId: string): Promise<SchemaInfo | null> {
    return (await this.#introspect(schemaId))[0] ?? null;
  }

  async sampleRecords(schemaId: string, limit: number): Promise<Row[]> {
    const schema = await this.getSchema(schemaId);
    if (!schema) throw notFound('Schema', schemaId);
    const table = `${quoteIdent(schema.namespace ?? '')}.${quoteIdent(schema.name)}`;
    return this.#withClient(async (client) => {
      const result = await client.query(`select * from ${table} limit $1`, [rowLimit(limit)]);
      return result.rows.map(toJsonSafeRow);
    });
  }

  async query(sql: string, limit: number): Promise<QueryResult> {
    // The extended protocol runs exactly one statement: `…; commit; drop …` cannot ride along.
    const wrapped: pg.QueryConfig & { queryMode: 'extended' } = {
      text: `select * from (\n${stripTrailingSemicolons(sql)}\n) as ferry_query limit ${rowLimit(limit)}`,
      queryMode: 'extended',
    };
    return this.#withClient(async (client) => {
      await client.query('begin read only');
      try {
        await client.query(`set local statement_timeout = ${STATEMENT_TIMEOUT_MS}`);
        const result = await client.query(wrapped);
        return { fields: result.fields.map((field) => field.name), rows: result.rows.map(toJsonSafeRow) };
      } finally {
        await client.query('rollback').catch(() => {});
      }
    });
  }

  async close(): Promise<void> {
    if (!this.#pool.ended) await this.#pool.end();
  }
}

export const postgresConnector: ConnectorType<PostgresConfig> = {
  id: 'postgresql',
  name: 'PostgreSQL',
  capabilities: { source: true, destination: true },
  configSchema,
  secretFields: ['password'],
  async open(config) {
    return new PostgresConnector(parseConfig(configSchema, config));
  },
  async openReader(config) {
    return new PostgresReader(parseConfig(configSchema, config));
  },
  openWriter: (config) => openPostgresWriter(parseConfig(configSchema, config)),
};
