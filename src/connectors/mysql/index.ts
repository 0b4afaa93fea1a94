import mysql from 'mysql2/promise';
import { FerryError, notFound } from '../../domain/errors.ts';
import { connectionFailed, parseConfig, queryFailed } from '../errors.ts';
import type { Connector, ConnectorType, FieldInfo, QueryResult, Row, SchemaInfo } from '../types.ts';
import {
  fieldTypeOf,
  isoTimestamp,
  rowLimit,
  safeInteger,
  stripTrailingSemicolons,
  toJsonSafeRow,
} from '../values.ts';
import { mysqlLogicalType } from './logical-types.ts';
import { MysqlReader } from './reader.ts';
import { type MysqlConfig, mysqlType } from './type.ts';

const { configSchema } = mysqlType;

const CONNECT_TIMEOUT_MS = 5_000;
const STATEMENT_TIMEOUT_MS = 60_000;

/** Server errors that mean "could not log in or reach the database", not "bad SQL". */
const CONNECTION_ERRNOS = new Set([1040, 1044, 1045, 1049, 1129, 1130, 1251, 1203, 1226]);

function isConnectionError(error: unknown): boolean {
  const { errno, fatal, sqlState } = error as { errno?: unknown; fatal?: unknown; sqlState?: unknown };
  if (fatal === true) return true;
  if (typeof errno === 'number' && CONNECTION_ERRNOS.has(errno)) return true;
  return sqlState === undefined && typeof errno !== 'number'; // socket errors
}

function connectionField(error: unknown): string {
  const { errno, code } = error as { errno?: unknown; code?: unknown };
  if (errno === 1049 || errno === 1044) return 'configuration.database';
  if (errno === 1045) return 'configuration.password';
  if (code === 'ECONNREFUSED') return 'configuration.port';
  return 'configuration.hostname';
}

const quoteIdent = (name: string): string => `\`${name.replaceAll('`', '``')}\``;

/** Timestamps as ISO text (TIMESTAMP is UTC in our sessions; DATETIME has no zone); BIT as a number. */
const typeCast: mysql.TypeCast = (field, next) => {
  if (field.type === 'TIMESTAMP' || field.type === 'DATETIME') {
    const value = field.string();
    if (value === null || value.startsWith('0000-00-00')) return value;
    return field.type === 'TIMESTAMP' ? `${isoTimestamp(value)}Z` : isoTimestamp(value);
  }
  if (field.type === 'BIT') {
    const bytes = field.buffer();
    return bytes === null ? null : safeInteger(BigInt(`0x${bytes.toString('hex') || '0'}`));
  }
  return next();
};

interface ColumnRow {
  table_name: string;
  column_name: string | null;
  column_type: string | null;
  is_nullable: string | null;
}

class MysqlConnector implements Connector {
  readonly #config: MysqlConfig;
  readonly #pool: mysql.Pool;
  #mariadb: boolean | undefined;
  #closed = false;

  constructor(config: MysqlConfig) {
    this.#config = config;
    this.#pool = mysql.createPool({
      host: config.hostname,
      port: config.port,
      database: config.database,
      user: config.username,
      password: config.password ?? '',
      ssl: config.ssl ? { rejectUnauthorized: false } : undefined,
      connectTimeout: CONNECT_TIMEOUT_MS,
      connectionLimit: 4,
      maxIdle: 0,
      charset: 'utf8mb4',
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: false,
      decimalNumbers: false,
      multipleStatements: false,
      typeCast,
    });
    // Queued before any caller's query on a fresh connection.
    this.#pool.pool.on('connection', (connection) => {
      connection.query("set time_zone = '+00:00'", () => {});
    });
  }

  async #withConnection<T>(work: (connection: mysql.PoolConnection) => Promise<T>): Promise<T> {
    const { hostname, port, password } = this.#config;
    let connection: mysql.PoolConnection;
    try {
      connection = await this.#pool.getConnection();
    } catch (error) {
      throw connectionFailed(`Could not connect to MySQL at ${hostname}:${port}`, error, {
        secrets: [password],
        field: connectionField(error),
      });
    }
    let broken = false;
    try {
      return await work(connection);
    } catch (error) {
      if (error instanceof FerryError) throw error;
      if (isConnectionError(error)) {
        broken = true;
        throw connectionFailed(`MySQL connection to ${hostname}:${port} failed`, error, {
          secrets: [password],
          field: connectionField(error),
        });
      }
      throw queryFailed(error, [password]);
    } finally {
      if (broken) connection.destroy();
      else connection.release();
    }
  }

  async test(): Promise<void> {
    await this.#withConnection((connection) => connection.query('select 1'));
  }

  async #isMariadb(connection: mysql.PoolConnection): Promise<boolean> {
    if (this.#mariadb === undefined) {
      const [rows] = await connection.query<mysql.RowDataPacket[]>('select version() as version');
      this.#mariadb = String(rows[0]?.version).includes('MariaDB');
    }
    return this.#mariadb;
  }

  async #introspect(table: string | null): Promise<SchemaInfo[]> {
    return this.#withConnection(async (connection) => {
      const [columns] = await connection.query<(ColumnRow & mysql.RowDataPacket)[]>(
        `select t.table_name as table_name, c.column_name as column_name, c.column_type as column_type,
           c.is_nullable as is_nullable
         from information_schema.tables t
         left join information_schema.columns c on c.table_schema = t.table_schema and c.table_name = t.table_name
         where t.table_schema = database() and t.table_type in ('BASE TABLE', 'VIEW', 'SYSTEM VERSIONED')
           and (? is null or t.table_name = ?)
         order by t.table_name, c.ordinal_position`,
        [table, table],
      );
      const [keys] = await connection.query<mysql.RowDataPacket[]>(
        `select table_name as table_name, column_name as column_name from information_schema.key_column_usage
         where table_schema = database() and constraint_name = 'PRIMARY' and (? is null or table_name = ?)
         order by table_name, ordinal_position`,
        [table, table],
      );
      const json = (await this.#isMariadb(connection))
        ? await mariadbJsonColumns(connection, table)
        : new Set();
      const primaryKeys = new Map<string, string[]>();
      for (const key of keys) {
        const list = primaryKeys.get(key.table_name) ?? [];
        list.push(key.column_name);
        primaryKeys.set(key.table_name, list);
      }
      const schemas = new Map<string, SchemaInfo>();
      for (const column of columns) {
        let schema = schemas.get(column.table_name);
        if (!schema) {
          const pk = primaryKeys.get(column.table_name) ?? [];
          schema = {
            id: column.table_name,
            name: column.table_name,
            namespace: null,
            fields: [],
            primaryKeys: pk,
          };
          schemas.set(column.table_name, schema);
        }
        if (column.column_name === null) continue;
        const remoteType = json.has(`${column.table_name}.${column.column_name}`)
          ? 'json'
          : (column.column_type ?? 'unknown');
        const field: FieldInfo = {
          name: column.column_name,
          remoteType,
          type: fieldTypeOf(remoteType),
          nullable: column.is_nullable === 'YES',
          isPrimaryKey: schema.primaryKeys.includes(column.column_name),
          logicalType: mysqlLogicalType(remoteType),
        };
        schema.fields.push(field);
      }
      return [...schemas.values()];
    });
  }

  listSchemas(): Promise<SchemaInfo[]> {
    return this.#introspect(null);
  }

  async getSchema(schemaId: string): Promise<SchemaInfo | null> {
    // information_schema compares names case-insensitively; ids are exact.
    return (await this.#introspect(schemaId)).find((schema) => schema.id === schemaId) ?? null;
  }

  async sampleRecords(schemaId: string, limit: number): Promise<Row[]> {
    const schema = await this.getSchema(schemaId);
    if (!schema) throw notFound('Schema', schemaId);
    return this.#withConnection(async (connection) => {
      const [rows] = await connection.query<mysql.RowDataPacket[]>(
        `select * from ${quoteIdent(schema.name)} limit ${rowLimit(limit)}`,
      );
      return rows.map((row) => toJsonSafeRow(row));
    });
  }

  async query(sql: string, limit: number): Promise<QueryResult> {
    return this.#withConnection(async (connection) => {
      const timeout = (await this.#isMariadb(connection))
        ? `set session max_statement_time = ${STATEMENT_TIMEOUT_MS / 1000}`
        : `set session max_execution_time = ${STATEMENT_TIMEOUT_MS}`;
      await connection.query(timeout);
      await connection.query('start transaction read only');
      try {
        const [rows, fields] = await connection.query<mysql.RowDataPacket[]>(
          `select * from (\n${stripTrailingSemicolons(sql)}\n) as ferry_query limit ${rowLimit(limit)}`,
        );
        return { fields: fields.map((field) => field.name), rows: rows.map((row) => toJsonSafeRow(row)) };
      } finally {
        await connection.query('rollback').catch(() => {});
      }
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }
}

/** MariaDB's JSON is LONGTEXT with a `json_valid(col)` check; information_schema.columns does not say so. */
async function mariadbJsonColumns(
  connection: mysql.PoolConnection,
  table: string | null,
): Promise<Set<string>> {
  const [rows] = await connection.query<mysql.RowDataPacket[]>(
    `select table_name as table_name, check_clause as check_clause from information_schema.check_constraints
     where constraint_schema = database() and check_clause like 'json_valid(%' and (? is null or table_name = ?)`,
    [table, table],
  );
  const columns = new Set<string>();
  for (const row of rows) {
    const match = /^json_valid\(`((?:[^`]|``)+)`\)$/.exec(String(row.check_clause));
    if (match?.[1]) columns.add(`${row.table_name}.${match[1].replaceAll('``', '`')}`);
  }
  return columns;
}

export const mysqlConnector: ConnectorType<MysqlConfig> = {
  ...mysqlType,
  async open(config) {
    return new MysqlConnector(parseConfig(configSchema, config));
  },
  async openReader(config) {
    return new MysqlReader(parseConfig(configSchema, config));
  },
};
