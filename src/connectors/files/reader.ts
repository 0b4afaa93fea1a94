import { realpathSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { FerryError, notFound } from '../../domain/errors.ts';
import type { ReadRequest, RowBatch, TableReader } from '../../engine/bulk/contracts.ts';
import { duckdbLogicalType } from '../duckdb/logical-types.ts';
import { lockedDownOptions, readAll } from '../duckdb-shared.ts';
import { connectionFailed, queryFailed } from '../errors.ts';
import { readClauses } from '../read-sql.ts';
import {
  abortReason,
  BATCH_BYTES,
  BATCH_ROWS,
  keysetAfter,
  quoteIdent,
  quoteLiteral,
  rowLimit,
} from '../values.ts';
import { readers } from './formats.ts';
import type { FilesConfig } from './type.ts';

const FIELD = 'configuration.path';

/** DuckDB expression rendering column `name` of DuckDB type `type` as PostgreSQL text. */
export function textExpression(name: string, type: string): string {
  const column = quoteIdent(name);
  switch (duckdbLogicalType(type).kind) {
    case 'boolean':
      return `case when ${column} is null then null when ${column} then 't' else 'f' end`;
    case 'bytes':
      return `'\\x' || lower(hex(${column}))`;
    case 'json':
      return type.toUpperCase() === 'JSON' ? `${column}::varchar` : `to_json(${column})::varchar`;
    default:
      return `${column}::varchar`;
  }
}

/** A cursor/primary key value (PostgreSQL text) as a DuckDB literal of the column's type. */
function typedLiteral(type: string, text: string): string {
  const kind = duckdbLogicalType(type).kind;
  if (kind === 'bytes') return `unhex(${quoteLiteral(text.replace(/^\\x/, ''))})`;
  if (kind === 'json' || kind === 'text') return quoteLiteral(text);
  return `cast(${quoteLiteral(text)} as ${type})`;
}

/** Bulk reads of CSV, JSONL and Parquet files through an embedded DuckDB that may read only this directory. */
export class FilesReader implements TableReader {
  readonly #path: string;
  #instance: Promise<DuckDBInstance> | undefined;
  readonly #connections = new Set<DuckDBConnection>();

  constructor(config: FilesConfig) {
    this.#path = config.path;
  }

  #directory(): string {
    try {
      if (!statSync(this.#path).isDirectory()) throw new Error('not a directory');
      return realpathSync(this.#path);
    } catch {
      throw new FerryError('connection_failed', `Directory not found: ${this.#path}`, { field: FIELD });
    }
  }

  /** The `read_…(path)` table function of a file of the directory (schema id = file name). */
  #source(directory: string, schemaId: string): string {
    const reader = readers[extname(schemaId).toLowerCase()];
    let isFile = false;
    try {
      isFile =
        !/[/\\]/.test(schemaId) && !schemaId.startsWith('.') && statSync(join(directory, schemaId)).isFile();
    } catch {}
    if (!reader || !isFile) throw notFound('Schema', schemaId);
    return reader(join(directory, schemaId));
  }

  async #connect(directory: string): Promise<DuckDBConnection> {
    this.#instance ??= (async () => {
      const { enable_external_access, lock_configuration, ...early } = lockedDownOptions;
      const instance = await DuckDBInstance.create(':memory:', early);
      const setup = await instance.connect();
      try {
        await setup.run(`set allowed_directories = [${quoteLiteral(`${directory}/`)}]`);
        await setup.run(`set enable_external_access = ${enable_external_access}`);
        await setup.run(`set lock_configuration = ${lock_configuration}`);
      } finally {
        setup.closeSync();
      }
      return instance;
    })().catch((error) => {
      this.#instance = undefined;
      throw connectionFailed('Could not start DuckDB', error);
    });
    const connection = await (await this.#instance).connect();
    this.#connections.add(connection);
    return connection;
  }

  #disconnect(connection: DuckDBConnection): void {
    if (this.#connections.delete(connection)) connection.closeSync();
  }

  async *read(request: ReadRequest): AsyncGenerator<RowBatch> {
    const { signal } = request;
    if (signal.aborted) throw abortReason(signal);
    const directory = this.#directory();
    const source = this.#source(directory, request.schemaId);
    const connection = await this.#connect(directory);
    const onAbort = () => connection.interrupt();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const described = await readAll(connection, `describe select * from ${source}`);
      const types = new Map(described.map((row) => [String(row.column_name), String(row.column_type)]));
      const typeOf = (name: string): string => {
        const type = types.get(name);
        if (!type) throw new FerryError('query_failed', `column ${name} not found in ${request.schemaId}`);
        return type;
      };
      const list = request.columns.map((column) => textExpression(column.source, typeOf(column.source)));
      let sql = `select ${list.join(', ') || 'null'} from ${source}`;
      sql += readClauses(request, {
        ident: quoteIdent,
        literal: quoteLiteral,
        asText: (column) => `cast(${column} as varchar)`,
        checkColumn: typeOf,
        after: (keys, values) =>
          keysetAfter(
            keys.map(quoteIdent),
            keys.map((key, i) => typedLiteral(typeOf(key), values[i]!)),
          ),
      });
      // A plain LIMIT makes DuckDB collect the rows before the first one streams out: unordered reads stop
      // fetching instead. Ordered (incremental) reads sort anyway, and LIMIT turns the sort into a top-N.
      let remaining = request.limit === undefined ? Number.POSITIVE_INFINITY : rowLimit(request.limit);
      if (request.incremental && request.limit !== undefined) sql += ` limit ${remaining}`;
      if (remaining === 0) return;
      if (signal.aborted) throw abortReason(signal);
      // Streaming result: DuckDB produces the next chunk (2,048 rows) only when we fetch it.
      const result = await connection.stream(sql);
      let batch: RowBatch = [];
      let bytes = 0;
      for (
        let chunk = await result.fetchChunk();
        chunk && chunk.rowCount > 0;
        chunk = await result.fetchChunk()
      ) {
        for (const values of chunk.getRows()) {
          if (remaining-- <= 0) break;
          const row = values as (string | null)[];
          for (const value of row) if (value !== null) bytes += value.length;
          batch.push(row);
          if (batch.length >= BATCH_ROWS || bytes >= BATCH_BYTES) {
            const full = batch;
            batch = [];
            bytes = 0;
            yield full;
            if (signal.aborted) throw abortReason(signal);
          }
        }
        if (remaining <= 0) break;
      }
      if (batch.length > 0) yield batch;
    } catch (error) {
      if (signal.aborted) throw abortReason(signal);
      throw error instanceof FerryError ? error : queryFailed(error);
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.#disconnect(connection);
    }
  }

  async estimateRows(schemaId: string): Promise<number | undefined> {
    if (extname(schemaId).toLowerCase() !== '.parquet') return undefined;
    const directory = this.#directory();
    this.#source(directory, schemaId);
    const connection = await this.#connect(directory);
    try {
      const [row] = await readAll(
        connection,
        `select sum(num_rows)::bigint as n from parquet_file_metadata(${quoteLiteral(join(directory, schemaId))})`,
      );
      return row?.n === null || row?.n === undefined ? undefined : Number(row.n);
    } catch {
      return undefined;
    } finally {
      this.#disconnect(connection);
    }
  }

  async close(): Promise<void> {
    for (const connection of [...this.#connections]) {
      connection.interrupt();
      this.#disconnect(connection);
    }
    const instance = await this.#instance?.catch(() => undefined);
    this.#instance = undefined;
    instance?.closeSync();
  }
}
