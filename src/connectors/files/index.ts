import { readdirSync, realpathSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { FerryError, notFound } from '../../domain/errors.ts';
import { duckdbLogicalType } from '../duckdb/logical-types.ts';
import { lockedDownOptions, readAll, runLimited } from '../duckdb-shared.ts';
import { connectionFailed, parseConfig, queryFailed } from '../errors.ts';
import type { Connector, ConnectorType, QueryResult, Row, SchemaInfo } from '../types.ts';
import { fieldTypeOf, quoteIdent, quoteLiteral } from '../values.ts';
import { readers } from './formats.ts';
import { FilesReader } from './reader.ts';
import { type FilesConfig, filesType } from './type.ts';
import { openParquetWriter } from './writer.ts';

const { configSchema } = filesType;

const FIELD = 'configuration.path';

interface DataFile {
  name: string;
  /** `users` for `users.csv`: the view name in `query`. */
  stem: string;
  reader: string;
}

class FilesConnector implements Connector {
  readonly #path: string;
  #directory: string | undefined;
  #handle: Promise<{ instance: DuckDBInstance; connection: DuckDBConnection }> | undefined;
  readonly #views = new Set<string>();

  constructor(config: FilesConfig) {
    this.#path = config.path;
  }

  #resolveDirectory(): string {
    if (this.#directory) return this.#directory;
    try {
      if (!statSync(this.#path).isDirectory()) throw new Error('not a directory');
      this.#directory = realpathSync(this.#path);
      return this.#directory;
    } catch {
      throw new FerryError('connection_failed', `Directory not found: ${this.#path}`, { field: FIELD });
    }
  }

  #files(): DataFile[] {
    const directory = this.#resolveDirectory();
    let entries: string[];
    try {
      entries = readdirSync(directory, { withFileTypes: true })
        .filter((entry) => entry.isFile() && !entry.name.startsWith('.'))
        .map((entry) => entry.name)
        .sort();
    } catch (error) {
      throw connectionFailed(`Could not list directory ${this.#path}`, error, { field: FIELD });
    }
    const files: DataFile[] = [];
    for (const name of entries) {
      const extension = extname(name).toLowerCase();
      const reader = readers[extension];
      if (reader)
        files.push({ name, stem: name.slice(0, -extension.length), reader: reader(join(directory, name)) });
    }
    return files;
  }

  /** In-memory DuckDB that may read this directory and nothing else. */
  #open() {
    this.#handle ??= (async () => {
      const directory = this.#resolveDirectory();
      const { enable_external_access, lock_configuration, ...early } = lockedDownOptions;
      const instance = await DuckDBInstance.create(':memory:', early);
      const connection = await instance.connect();
      await connection.run(`set allowed_directories = [${quoteLiteral(`${directory}/`)}]`);
      await connection.run(`set enable_external_access = ${enable_external_access}`);
      await connection.run(`set lock_configuration = ${lock_configuration}`);
      return { instance, connection };
    })().catch((error) => {
      this.#handle = undefined;
      throw connectionFailed('Could not start DuckDB', error);
    });
    return this.#handle;
  }

  async test(): Promise<void> {
    this.#files();
    await this.#open();
  }

  async #describe(file: DataFile): Promise<SchemaInfo> {
    const { connection } = await this.#open();
    const columns = await readAll(connection, `describe select * from ${file.reader}`);
    return {
      id: file.name,
      name: file.name,
      namespace: null,
      primaryKeys: [],
      fields: columns.map((column) => ({
        name: String(column.column_name),
        remoteType: String(column.column_type),
        type: fieldTypeOf(String(column.column_type)),
        nullable: true,
        isPrimaryKey: false,
        logicalType: duckdbLogicalType(String(column.column_type)),
      })),
    };
  }

  async listSchemas(): Promise<SchemaInfo[]> {
    const schemas: SchemaInfo[] = [];
    for (const file of this.#files()) {
      // One unreadable file must not hide the others: it is listed without fields.
      schemas.push(
        await this.#describe(file).catch(() => ({
          id: file.name,
          name: file.name,
          namespace: null,
          fields: [],
          primaryKeys: [],
        })),
      );
    }
    return schemas;
  }

  async getSchema(schemaId: string): Promise<SchemaInfo | null> {
    const file = this.#files().find((candidate) => candidate.name === schemaId);
    if (!file) return null;
    return this.#describe(file).catch((error) => {
      throw queryFailed(error);
    });
  }

  async sampleRecords(schemaId: string, limit: number): Promise<Row[]> {
    const file = this.#files().find((candidate) => candidate.name === schemaId);
    if (!file) throw notFound('Schema', schemaId);
    const { connection } = await this.#open();
    return (await runLimited(connection, `select * from ${file.reader}`, limit)).rows;
  }

  async query(sql: string, limit: number): Promise<QueryResult> {
    const { connection } = await this.#open();
    const text = sql.toLowerCase();
    // A view binds (and sniffs) its file when created: only create those the SQL may mention.
    // When two files share a stem (users.csv, users.jsonl), the first by name wins.
    for (const file of this.#files()) {
      const view = file.stem.toLowerCase();
      if (this.#views.has(view) || !text.includes(view)) continue;
      try {
        await connection.run(
          `create or replace temp view ${quoteIdent(file.stem)} as select * from ${file.reader}`,
        );
      } catch (error) {
        throw queryFailed(error);
      }
      this.#views.add(view);
    }
    return runLimited(connection, sql, limit);
  }

  async close(): Promise<void> {
    const handle = await this.#handle?.catch(() => undefined);
    this.#handle = undefined;
    handle?.connection.closeSync();
    handle?.instance.closeSync();
  }
}

export const filesConnector: ConnectorType<FilesConfig> = {
  ...filesType,
  async open(config) {
    return new FilesConnector(parseConfig(configSchema, config));
  },
  async openReader(config) {
    return new FilesReader(parseConfig(configSchema, config));
  },
  openWriter: (config) => openParquetWriter(parseConfig(configSchema, config)),
};
