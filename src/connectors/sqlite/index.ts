import { statSync } from 'node:fs';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { z } from 'zod';
import { FerryError, notFound } from '../../domain/errors.ts';
import { connectionFailed, parseConfig, queryFailed } from '../errors.ts';
import type { Connector, ConnectorType, QueryResult, Row, SchemaInfo } from '../types.ts';
import { fieldTypeOf, quoteIdent, rowLimit, toJsonSafeRow } from '../values.ts';
import { sqliteLogicalType } from './logical-types.ts';
import { SqliteReader } from './reader.ts';

const configSchema = z.object({
  path: z.string().trim().min(1),
});

export type SqliteConfig = z.infer<typeof configSchema>;

const FIELD = 'configuration.path';
/** SQLITE_CANTOPEN, SQLITE_NOTADB, SQLITE_CORRUPT: the file, not the SQL, is at fault. */
const FILE_ERRCODES = new Set([14, 26, 11]);

/** Even read-only, ATTACH could open other files on this machine: only queries may run. */
const READ_STATEMENT = /^(\s|--[^\n]*(\n|$)|\/\*[\s\S]*?\*\/)*(select|with|values|pragma|explain)\b/i;

interface TableInfoRow {
  name: string;
  type: string;
  notnull: number;
  pk: number;
}

class SqliteConnector implements Connector {
  readonly #path: string;
  #db: Promise<DatabaseSync> | undefined;

  constructor(config: SqliteConfig) {
    this.#path = config.path;
  }

  #open(): Promise<DatabaseSync> {
    this.#db ??= this.#connect().catch((error) => {
      this.#db = undefined;
      throw error;
    });
    return this.#db;
  }

  async #connect(): Promise<DatabaseSync> {
    let isFile = false;
    try {
      isFile = statSync(this.#path).isFile();
    } catch {}
    if (!isFile)
      throw new FerryError('connection_failed', `SQLite file not found: ${this.#path}`, { field: FIELD });
    // Loaded lazily: importing node:sqlite prints an ExperimentalWarning on Node 22.
    const { DatabaseSync } = await import('node:sqlite');
    let db: DatabaseSync | undefined;
    try {
      db = new DatabaseSync(this.#path, { readOnly: true });
      db.prepare('select count(*) from sqlite_schema').get(); // "file is not a database" shows up here
      return db;
    } catch (error) {
      db?.close();
      throw connectionFailed(`Could not open SQLite file ${this.#path}`, error, { field: FIELD });
    }
  }

  /** Runs synchronous SQLite work, classifying its errors. */
  async #run<T>(work: (db: DatabaseSync) => T): Promise<T> {
    const db = await this.#open();
    try {
      return work(db);
    } catch (error) {
      if (FILE_ERRCODES.has((error as { errcode?: number }).errcode ?? -1)) {
        throw connectionFailed(`SQLite file ${this.#path} cannot be read`, error, { field: FIELD });
      }
      throw queryFailed(error);
    }
  }

  async test(): Promise<void> {
    await this.#open();
  }

  #describe(db: DatabaseSync, name: string): SchemaInfo {
    const columns = db.prepare('select * from pragma_table_info(?)').all(name) as unknown as TableInfoRow[];
    const primaryKeys = columns
      .filter((column) => column.pk > 0)
      .sort((a, b) => a.pk - b.pk)
      .map((column) => column.name);
    return {
      id: name,
      name,
      namespace: null,
      primaryKeys,
      fields: columns.map((column) => ({
        name: column.name,
        remoteType: column.type,
        type: fieldTypeOf(column.type),
        nullable: column.notnull === 0 && column.pk === 0,
        isPrimaryKey: column.pk > 0,
        logicalType: sqliteLogicalType(column.type),
      })),
    };
  }

  #tables(db: DatabaseSync, name: string | null): string[] {
    const rows = db
      .prepare(
        `select name from sqlite_schema where type in ('table', 'view') and name not like 'sqlite\\_%' escape '\\'
         and (?1 is null or name = ?1) order by name`,
      )
      .all(name) as Array<{ name: string }>;
    return rows.map((row) => row.name);
  }

  listSchemas(): Promise<SchemaInfo[]> {
    return this.#run((db) => this.#tables(db, null).map((name) => this.#describe(db, name)));
  }

  getSchema(schemaId: string): Promise<SchemaInfo | null> {
    return this.#run((db) => {
      const [name] = this.#tables(db, schemaId);
      return name === undefined ? null : this.#describe(db, name);
    });
  }

  async sampleRecords(schemaId: string, limit: number): Promise<Row[]> {
    if (!(await this.getSchema(schemaId))) throw notFound('Schema', schemaId);
    return this.#run((db) => {
      const statement = db.prepare(`select * from ${quoteIdent(schemaId)} limit ?`);
      statement.setReadBigInts(true);
      return (statement.all(rowLimit(limit)) as Record<string, unknown>[]).map(toJsonSafeRow);
    });
  }

  async query(sql: string, limit: number): Promise<QueryResult> {
    // The file is open read-only, so any write fails; rows are pulled one by one and we stop at `limit`.
    // SQLite has no statement timeout: a runaway query blocks this thread.
    if (!READ_STATEMENT.test(sql)) {
      throw new FerryError(
        'query_failed',
        'Only SELECT, WITH, VALUES, PRAGMA and EXPLAIN statements can be run',
      );
    }
    return this.#run((db) => {
      const statement: StatementSync = db.prepare(sql);
      statement.setReadBigInts(true);
      const fields = statement.columns().map((column) => column.name);
      const rows: Row[] = [];
      const max = rowLimit(limit);
      if (max > 0) {
        for (const row of statement.iterate()) {
          rows.push(toJsonSafeRow(row as Record<string, unknown>));
          if (rows.length >= max) break;
        }
      }
      return { fields, rows };
    });
  }

  async close(): Promise<void> {
    const db = await this.#db?.catch(() => undefined);
    this.#db = undefined;
    db?.close();
  }
}

export const sqliteConnector: ConnectorType<SqliteConfig> = {
  id: 'sqlite',
  name: 'SQLite',
  capabilities: { source: true, destination: false },
  configSchema,
  secretFields: [],
  async open(config) {
    return new SqliteConnector(parseConfig(configSchema, config));
  },
  async openReader(config) {
    return new SqliteReader(parseConfig(configSchema, config));
  },
};
