import { accessSync, constants, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { FerryError, notFound } from '../../domain/errors.ts';
import { lockedDownOptions, readAll, runLimited } from '../duckdb-shared.ts';
import { connectionFailed, parseConfig, queryFailed } from '../errors.ts';
import type { Connector, ConnectorType, QueryResult, Row, SchemaInfo } from '../types.ts';
import { fieldTypeOf, quoteIdent } from '../values.ts';
import { duckdbLogicalType } from './logical-types.ts';
import { type DuckdbConfig, duckdbType } from './type.ts';
import { openDuckdbWriter } from './writer.ts';

const { configSchema } = duckdbType;

const FIELD = 'configuration.path';

const exists = (path: string): boolean => {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
};

interface Handle {
  instance: DuckDBInstance;
  connection: DuckDBConnection;
  /** False when the file does not exist yet: an empty in-memory database stands in. */
  file: boolean;
}

class DuckdbConnector implements Connector {
  readonly #path: string;
  #handle: Promise<Handle> | undefined;

  constructor(config: DuckdbConfig) {
    this.#path = config.path;
  }

  #open(): Promise<Handle> {
    this.#handle ??= this.#connect().catch((error) => {
      this.#handle = undefined;
      throw error;
    });
    return this.#handle;
  }

  async #connect(): Promise<Handle> {
    const file = exists(this.#path);
    if (!file) this.#checkDestinationDirectory();
    try {
      const instance = await DuckDBInstance.create(file ? this.#path : ':memory:', {
        ...(file ? { access_mode: 'READ_ONLY' } : {}),
        ...lockedDownOptions,
      });
      return { instance, connection: await instance.connect(), file };
    } catch (error) {
      throw connectionFailed(`Could not open DuckDB file ${this.#path}`, error, { field: FIELD });
    }
  }

  /** A missing file is fine when it can be created there on first write. */
  #checkDestinationDirectory(): void {
    const directory = dirname(this.#path);
    try {
      if (!statSync(directory).isDirectory()) throw new Error('not a directory');
      accessSync(directory, constants.W_OK);
    } catch {
      throw new FerryError(
        'connection_failed',
        `DuckDB file ${this.#path} does not exist and directory ${directory} is not a writable directory`,
        { field: FIELD },
      );
    }
  }

  async test(): Promise<void> {
    await this.#open();
  }

  async #introspect(): Promise<SchemaInfo[]> {
    const { connection, file } = await this.#open();
    if (!file) return [];
    try {
      const objects = await readAll(
        connection,
        `select schema_name, table_name from duckdb_tables() where not internal and not temporary
           and database_name = current_database()
         union all
         select schema_name, view_name from duckdb_views() where not internal and not temporary
           and database_name = current_database()
         order by 1, 2`,
      );
      const columns = await readAll(
        connection,
        `select schema_name, table_name, column_name, data_type, is_nullable from duckdb_columns()
         where not internal and database_name = current_database() order by schema_name, table_name, column_index`,
      );
      const keys = await readAll(
        connection,
        `select schema_name, table_name, constraint_column_names from duckdb_constraints()
         where constraint_type = 'PRIMARY KEY' and database_name = current_database()`,
      );
      const key = (schema: unknown, table: unknown) => JSON.stringify([schema, table]);
      const primaryKeys = new Map(
        keys.map((row) => [key(row.schema_name, row.table_name), row.constraint_column_names]),
      );
      const schemas = new Map<string, SchemaInfo>();
      for (const row of objects) {
        const namespace = String(row.schema_name);
        const name = String(row.table_name);
        const pk = (primaryKeys.get(key(namespace, name)) as string[] | undefined) ?? [];
        schemas.set(key(namespace, name), {
          id: namespace === 'main' ? name : `${namespace}.${name}`,
          name,
          namespace,
          fields: [],
          primaryKeys: pk,
        });
      }
      for (const row of columns) {
        const schema = schemas.get(key(row.schema_name, row.table_name));
        if (!schema) continue;
        const name = String(row.column_name);
        schema.fields.push({
          name,
          remoteType: String(row.data_type),
          type: fieldTypeOf(String(row.data_type)),
          nullable: row.is_nullable === true,
          isPrimaryKey: schema.primaryKeys.includes(name),
          logicalType: duckdbLogicalType(String(row.data_type)),
        });
      }
      return [...schemas.values()];
    } catch (error) {
      throw queryFailed(error);
    }
  }

  listSchemas(): Promise<SchemaInfo[]> {
    return this.#introspect();
  }

  async getSchema(schemaId: string): Promise<SchemaInfo | null> {
    return (await this.#introspect()).find((schema) => schema.id === schemaId) ?? null;
  }

  async sampleRecords(schemaId: string, limit: number): Promise<Row[]> {
    const schema = await this.getSchema(schemaId);
    if (!schema) throw notFound('Schema', schemaId);
    const { connection } = await this.#open();
    const table = `${quoteIdent(schema.namespace ?? 'main')}.${quoteIdent(schema.name)}`;
    return (await runLimited(connection, `select * from ${table}`, limit)).rows;
  }

  async query(sql: string, limit: number): Promise<QueryResult> {
    const { connection } = await this.#open();
    return runLimited(connection, sql, limit);
  }

  async close(): Promise<void> {
    const handle = await this.#handle?.catch(() => undefined);
    this.#handle = undefined;
    handle?.connection.closeSync();
    handle?.instance.closeSync();
  }
}

export const duckdbConnector: ConnectorType<DuckdbConfig> = {
  ...duckdbType,
  async open(config) {
    return new DuckdbConnector(parseConfig(configSchema, config));
  },
  openWriter: (config) => openDuckdbWriter(parseConfig(configSchema, config)),
};
