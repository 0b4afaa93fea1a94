import { statSync } from 'node:fs';
import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import { FerryError, notFound } from '../../domain/errors.ts';
import type { LogicalType, ReadRequest, RowBatch, TableReader } from '../../engine/bulk/contracts.ts';
import { connectionFailed, queryFailed } from '../errors.ts';
import { readClauses } from '../read-sql.ts';
import { abortReason, BATCH_BYTES, BATCH_ROWS, quoteIdent, quoteLiteral, rowLimit } from '../values.ts';
import type { SqliteConfig } from './index.ts';
import { sqliteLogicalType } from './logical-types.ts';

const FIELD = 'configuration.path';
/** SQLITE_CANTOPEN, SQLITE_NOTADB, SQLITE_CORRUPT, SQLITE_IOERR: the file, not the SQL, is at fault. */
const FILE_ERRCODES = new Set([14, 26, 11, 10]);

type Converter = (value: unknown) => string | null;

const hex = (bytes: Uint8Array) =>
  `\\x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`;

/**
 * SQLite value → PostgreSQL text. SQLite keeps what was stored, so text (dates and timestamps included)
 * passes through unchanged: cursor positions must compare equal to the stored text. Integers are read
 * as BigInt, so none loses precision.
 */
function converterOf(type: LogicalType): Converter {
  return (value) => {
    if (value === null || value === undefined) return null;
    if (value instanceof Uint8Array) return hex(value);
    if (type.kind === 'boolean' && (typeof value === 'bigint' || typeof value === 'number'))
      return Number(value) === 0 ? 'f' : 't';
    if (typeof value === 'number') {
      if (Number.isFinite(value)) return String(value);
      return value > 0 ? 'Infinity' : value < 0 ? '-Infinity' : 'NaN';
    }
    return String(value);
  };
}

/** A cursor/primary key value (PostgreSQL text) as a parameter that compares like the stored values. */
function parameterOf(type: LogicalType, text: string): SQLInputValue {
  if (type.kind === 'boolean')
    return text === 't' || text === 'true' ? 1 : text === 'f' || text === 'false' ? 0 : text;
  if (type.kind === 'bytes' && text.startsWith('\\x')) return Buffer.from(text.slice(2), 'hex');
  return text; // numeric affinity turns numeric text into numbers; text compares as text
}

/** Bulk reads of SQLite tables: `StatementSync.iterate()` on a read-only handle of its own per read. */
export class SqliteReader implements TableReader {
  readonly #path: string;
  readonly #open = new Set<DatabaseSync>();

  constructor(config: SqliteConfig) {
    this.#path = config.path;
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
    try {
      const db = new DatabaseSync(this.#path, { readOnly: true });
      this.#open.add(db);
      return db;
    } catch (error) {
      throw connectionFailed(`Could not open SQLite file ${this.#path}`, error, { field: FIELD });
    }
  }

  #close(db: DatabaseSync): void {
    if (this.#open.delete(db)) db.close();
  }

  #failure(error: unknown): FerryError {
    if (error instanceof FerryError) return error;
    if (FILE_ERRCODES.has((error as { errcode?: number }).errcode ?? -1)) {
      return connectionFailed(`SQLite file ${this.#path} cannot be read`, error, { field: FIELD });
    }
    return queryFailed(error);
  }

  async *read(request: ReadRequest): AsyncGenerator<RowBatch> {
    const { signal } = request;
    if (signal.aborted) throw abortReason(signal);
    const db = await this.#connect();
    let rows: Iterator<unknown> | undefined;
    try {
      const declared = new Map(
        (
          db.prepare('select name, type from pragma_table_info(?)').all(request.schemaId) as Array<{
            name: string;
            type: string;
          }>
        ).map((column) => [column.name, sqliteLogicalType(column.type)]),
      );
      if (declared.size === 0) throw notFound('Schema', request.schemaId);
      const typeOf = (name: string): LogicalType => {
        const type = declared.get(name);
        if (!type) throw new FerryError('query_failed', `column ${name} not found in ${request.schemaId}`);
        return type;
      };
      const converters = request.columns.map((column) => converterOf(typeOf(column.source)));
      const list = request.columns.map((column) => quoteIdent(column.source)).join(', ');
      let sql = `select ${list || 'null'} from ${quoteIdent(request.schemaId)}`;
      const parameters: SQLInputValue[] = [];
      sql += readClauses(request, {
        ident: quoteIdent,
        literal: quoteLiteral,
        asText: (column) => `cast(${column} as text)`,
        checkColumn: typeOf,
        after: (keys, values) => {
          parameters.push(...keys.map((key, i) => parameterOf(typeOf(key), values[i]!)));
          return `(${keys.map(quoteIdent).join(', ')}) > (${keys.map(() => '?').join(', ')})`;
        },
      });
      if (request.limit !== undefined) sql += ` limit ${rowLimit(request.limit)}`;
      const statement = db.prepare(sql);
      statement.setReadBigInts(true);
      statement.setReturnArrays(true); // rows as arrays: a column selected twice keeps both values
      rows = statement.iterate(...parameters) as Iterator<unknown>;
      let batch: RowBatch = [];
      let bytes = 0;
      for (let next = rows.next(); !next.done; next = rows.next()) {
        const raw = next.value as unknown[];
        const row: (string | null)[] = new Array(converters.length);
        for (let i = 0; i < converters.length; i++) {
          const text = converters[i]!(raw[i]);
          row[i] = text;
          if (text !== null) bytes += text.length;
        }
        batch.push(row);
        if (batch.length >= BATCH_ROWS || bytes >= BATCH_BYTES) {
          const full = batch;
          batch = [];
          bytes = 0;
          yield full;
          if (signal.aborted) throw abortReason(signal);
        }
      }
      rows = undefined;
      if (batch.length > 0) yield batch;
    } catch (error) {
      if (signal.aborted) throw abortReason(signal);
      throw this.#failure(error);
    } finally {
      rows?.return?.();
      this.#close(db);
    }
  }

  async estimateRows(schemaId: string): Promise<number | undefined> {
    const db = await this.#connect();
    try {
      // Only what ANALYZE left behind: counting rows would read the whole table.
      const stat = db
        .prepare("select 1 from sqlite_schema where type = 'table' and name = 'sqlite_stat1'")
        .get();
      if (!stat) return undefined;
      const row = db.prepare('select stat from sqlite_stat1 where tbl = ? limit 1').get(schemaId) as
        | { stat: string }
        | undefined;
      const n = row ? Number.parseInt(row.stat, 10) : Number.NaN;
      return Number.isFinite(n) ? n : undefined;
    } catch (error) {
      throw this.#failure(error);
    } finally {
      this.#close(db);
    }
  }

  async close(): Promise<void> {
    for (const db of [...this.#open]) this.#close(db);
  }
}
