/**
 * DuckDB file as a bulk-sync destination (and the staging machinery the Parquet destination reuses).
 *
 * The file is opened read-write only while loads run: one DuckDB instance per file in this process,
 * shared by the concurrent loads of an execution and closed when the last one ends, so other
 * processes (or the read-only source connector) can open the file between runs. Settings are the
 * connector's locked-down ones: no extension downloads, no external file access.
 *
 * Each load appends its rows with the appender into a connection-local raw table (all VARCHAR: the
 * PostgreSQL text of each value), then casts them into a staging table of its own
 * (`_ferry_stage_<table>_<attempt>`, same schema, tagged with a comment) in one `INSERT ... SELECT`
 * per batch. A refused batch (bad value for the type, NOT NULL, CHECK copied from the destination) is
 * bisected until the refused rows are alone; they go to `onReject` with DuckDB's message.
 * `commit()` runs ONE transaction: destination created or given its new columns, the staging rows
 * deduplicated by key (greatest cursor, then last loaded), then snapshot: `DELETE` + `INSERT`
 * (DuckDB's MVCC keeps readers on the old rows until commit), replicate: the destination rows whose
 * key was loaded are deleted and every loaded row inserted (the deleted keys are the updated count),
 * the cursor row in `_ferry_state` (same schema as the table, like the PostgreSQL destination), and
 * the staging table dropped. Tables Ferry creates have no PRIMARY KEY constraint (the key columns are
 * NOT NULL; keys stay unique because every load is deduplicated and merged by key): DuckDB builds a
 * key's ART index in memory, which bounded the loads by memory. Tables created with one keep it.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { FerryError } from '../../domain/errors.ts';
import type {
  ColumnSpec,
  CursorPosition,
  LoadResult,
  LogicalType,
  RejectedRow,
  RowBatch,
  TableLoad,
  TableTarget,
  TableWriter,
} from '../../engine/bulk/contracts.ts';
import { lockedDownOptions } from '../duckdb-shared.ts';
import { connectionFailed, queryFailed } from '../errors.ts';
import { quoteIdent, quoteLiteral } from '../values.ts';
import type { DuckdbConfig } from './type.ts';

/** DuckDB's DECIMAL holds at most 38 digits. */
const MAX_DECIMAL_PRECISION = 38;

/** LogicalType → DuckDB column type (the docs print this table). */
export const duckdbColumnTypes = {
  boolean: 'BOOLEAN',
  int16: 'SMALLINT',
  int32: 'INTEGER',
  int64: 'BIGINT',
  float32: 'FLOAT',
  float64: 'DOUBLE',
  decimal: 'DECIMAL(p,s) when p <= 38; VARCHAR (exact text) when wider or unconstrained',
  text: 'VARCHAR',
  uuid: 'UUID',
  date: 'DATE',
  time: 'TIME',
  timestamp: 'TIMESTAMP',
  timestamptz: 'TIMESTAMPTZ',
  interval: 'INTERVAL',
  json: 'JSON',
  bytes: 'BLOB',
} as const satisfies Record<LogicalType['kind'], string>;

export function duckdbColumnType(type: LogicalType): string {
  if (type.kind !== 'decimal') return duckdbColumnTypes[type.kind];
  const { precision, scale } = type;
  if (precision === undefined || precision < 1 || precision > MAX_DECIMAL_PRECISION) return 'VARCHAR';
  if (scale !== undefined && (scale < 0 || scale > precision)) return 'VARCHAR';
  return `DECIMAL(${precision},${scale ?? 0})`;
}

export const STAGE_PREFIX = '_ferry_stage_';
const STATE_TABLE = '_ferry_state';
/** Keys per slice of a merge's joins: their hash table of row pointers stays at 8 MiB. */
const MERGE_SLICE_ROWS = 500_000;
/** Staged rows per slice of the duplicate-key check: 32 MB holds the grouping of 10M, not of 20M. */
const GROUP_SLICE_ROWS = 4_000_000;

/** `hash(keys) % slices = i` over `table`'s key columns: the rows of one slice of the keys. */
const inSlice = (pk: string[], table: string, slices: number, i: number) =>
  slices === 1 ? 'true' : `hash(${pk.map((k) => `${table}.${k}`).join(', ')}) % ${slices} = ${i}`;
const ORD = '_ferry_ord';
const RAW = '_ferry_raw';

export const stagingTableName = (table: string, attemptId: string) => `${STAGE_PREFIX}${table}_${attemptId}`;

/** DuckDB errors that blame a row's values rather than the statement or the database. */
const isRowError = (error: unknown) =>
  /^(Conversion|Constraint|Invalid Input|Out of Range) Error/.test((error as Error)?.message ?? '');

/** DuckDB messages end with the SQL that failed (`LINE 1: ...`): keep the message only. */
export const duckdbMessage = (error: unknown) => String((error as Error)?.message ?? error).split('\n')[0]!;

/** Serializes work: DDL and commits of concurrent loads on one DuckDB database. */
export class Mutex {
  #tail: Promise<unknown> = Promise.resolve();
  run<T>(work: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(work, work);
    this.#tail = result.catch(() => {});
    return result;
  }
}

/** `expr` (of DuckDB type `type`) as the PostgreSQL text of the value: the cursor's representation. */
export function pgTextSql(expr: string, type: string): string {
  const t = type.toUpperCase();
  if (t === 'BOOLEAN') return `CASE WHEN ${expr} THEN 't' ELSE 'f' END`;
  if (t === 'BLOB') return `'\\x' || lower(hex(${expr}))`;
  return `CAST(${expr} AS VARCHAR)`;
}

/** The cast of a raw VARCHAR (PostgreSQL text) into a column of DuckDB type `type`. */
export function fromTextSql(expr: string, type: string): string {
  const t = type.toUpperCase();
  if (t === 'VARCHAR') return expr;
  if (t === 'BLOB')
    return `CASE WHEN ${expr} IS NULL THEN NULL WHEN starts_with(${expr}, '\\x') THEN from_hex(substr(${expr}, 3))
      ELSE error('invalid input syntax for type bytea: ' || ${expr}) END`;
  return `CAST(${expr} AS ${type})`;
}

export interface StageColumn {
  name: string;
  type: string;
  notNull: boolean;
}

export interface StageOptions {
  connection: DuckDBConnection;
  /** Quoted name of the staging table. */
  stage: string;
  /** Columns loaded, in batch order, with the staging table's types. */
  columns: StageColumn[];
  signal: AbortSignal;
  onReject: (rejected: RejectedRow) => void;
}

/**
 * Loads batches of text rows into a typed DuckDB staging table (which has an extra `_ferry_ord`
 * column: the load order): appender into a connection-local raw table, then one cast `INSERT` per
 * batch, bisected on refusal.
 */
export class DuckdbStageLoader {
  readonly #o: StageOptions;
  #ord = 0;
  rows = 0;
  rejected = 0;

  constructor(options: StageOptions) {
    this.#o = options;
  }

  /** Creates the raw table empty, replacing the previous one. */
  async init(): Promise<void> {
    const columns = this.#o.columns.map((_, i) => `c${i} VARCHAR`).join(', ');
    await this.#o.connection.run(`CREATE OR REPLACE TEMP TABLE ${RAW} (${columns}, ${ORD} BIGINT)`);
  }

  /** Runs `work`, interrupting the connection when the signal fires. */
  async cancellable<T>(work: () => Promise<T>): Promise<T> {
    const { signal, connection } = this.#o;
    signal.throwIfAborted();
    const onAbort = () => connection.interrupt();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      return await work();
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      throw error;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  async write(batch: RowBatch): Promise<void> {
    if (batch.length === 0) return;
    await this.cancellable(async () => {
      const { connection } = this.#o;
      const first = this.#ord;
      const appender = await connection.createAppender(RAW, 'main', 'temp');
      try {
        for (const row of batch) {
          for (let i = 0; i < this.#o.columns.length; i++) {
            const value = row[i] ?? null;
            if (value === null) appender.appendNull();
            else appender.appendVarchar(value);
          }
          appender.appendBigInt(BigInt(this.#ord++));
          appender.endRow();
        }
        appender.flushSync();
      } finally {
        appender.closeSync();
      }
      try {
        this.rows += await this.#insert(batch, first, first, this.#ord - 1);
      } finally {
        // Replaced, not emptied: DuckDB frees deleted rows only at a checkpoint, which a temp table
        // never gets, so `DELETE` kept every row of the load in memory.
        await this.init();
      }
    });
  }

  /** Inserts the raw rows numbered `from`..`to` (`first` is the batch's first number). */
  async #insert(batch: RowBatch, first: number, from: number, to: number): Promise<number> {
    const { columns, stage, connection } = this.#o;
    const names = columns.map((c) => quoteIdent(c.name)).join(', ');
    const values = columns.map((c, i) => fromTextSql(`c${i}`, c.type)).join(', ');
    try {
      const result = await connection.run(
        `INSERT INTO ${stage} (${names}, ${ORD}) SELECT ${values}, ${ORD} FROM temp.main.${RAW}
         WHERE ${ORD} BETWEEN ${from} AND ${to}`,
      );
      return result.rowsChanged;
    } catch (error) {
      if (this.#o.signal.aborted || !isRowError(error)) throw error;
      if (from === to) {
        this.rejected++;
        this.#o.onReject({ row: batch[from - first]!, reason: duckdbMessage(error) });
        return 0;
      }
      const middle = Math.floor((from + to) / 2);
      return (
        (await this.#insert(batch, first, from, middle)) + (await this.#insert(batch, first, middle + 1, to))
      );
    }
  }
}

/**
 * Loads stream every row through this instance once, so it keeps little of them: the commit flushes
 * its insert to the file every row group instead of buffering five (~600k rows), and DuckDB's
 * allocators hand freed memory back to the system instead of keeping the load's peak: a background
 * thread purges its jemalloc, and tasks that peaked above 4 MB or freed 2 MB at once flush it
 * (8 MB: 288 and 301 MB peaks for 5M rows from PostgreSQL; 4 MB: 278 and 281 MB, as fast). That
 * flush also trims the C library's heap (`malloc_trim`, at most every 100 ms), where DuckDB's query
 * vectors and plans live. (Flushing on every freed buffer-pool block, 256 KiB, took another 6 MB
 * off a 5M-row load's peak but doubled its time: every block came back through a page fault.)
 * Nothing a load runs needs its data in memory: destination tables have no primary-key index (an
 * ART index must fit in memory), merges delete and insert instead of updating (an UPDATE keeps the
 * old values in memory until commit), and sorts, joins, aggregates and staged rows spill to the
 * file's temp directory (`<file>.tmp`). So the buffer pool is small: 32 MB. Only a commit that
 * merges into existing rows gets MERGE_MEMORY_LIMIT: its DELETE keeps ~15 bytes per row it removes
 * until the commit, and a hash join allocates its table of row pointers whole. (Every commit would
 * be too much: the snapshot's duplicate-key check then aggregates in memory, 150 MB more at 5M
 * rows.) Commits on one file take turns (`lockOf`), and this instance runs Ferry's statements only,
 * so its configuration is not locked. One thread per statement: each load already runs on its own
 * connection, and a second thread doubles the commit's working memory for little speed on a
 * machine that also runs the source's reader.
 */
const loadOptions = {
  memory_limit: '32MB',
  threads: '1',
  write_buffer_row_group_count: '1',
  allocator_background_threads: 'true',
  allocator_flush_threshold: '4MB',
  allocator_bulk_deallocation_flush_threshold: '2MB',
  lock_configuration: 'false',
} as const;

const MERGE_MEMORY_LIMIT = '256MB';

/**
 * A file with an index (a primary key on a table that an earlier Ferry created, or an index added by
 * hand) needs all of it in memory at every checkpoint, which fails for good under a pool that is too
 * small: such files load with INDEXED_MEMORY_LIMIT.
 */
const INDEXED_MEMORY_LIMIT = '256MB';

async function loadMemoryLimit(instance: DuckDBInstance): Promise<string> {
  const connection = await instance.connect();
  try {
    const [found] = await rows(
      connection,
      `SELECT (SELECT count(*) FROM duckdb_indexes()) + (SELECT count(*) FROM duckdb_constraints()
         WHERE constraint_type IN ('PRIMARY KEY', 'UNIQUE')) AS n`,
    );
    if (Number(found!.n) === 0) return loadOptions.memory_limit;
    await connection.run(`SET GLOBAL memory_limit = '${INDEXED_MEMORY_LIMIT}'`);
    return INDEXED_MEMORY_LIMIT;
  } finally {
    connection.closeSync();
  }
}

interface Shared {
  instance: DuckDBInstance;
  refs: number;
  /** The buffer pool of loads (commits that merge get more). */
  memoryLimit: string;
}

/** One read-write instance per file in this process, open while loads use it. */
const instances = new Map<string, Promise<Shared>>();
const locks = new Map<string, Mutex>();

async function acquire(path: string): Promise<DuckDBConnection> {
  let shared = instances.get(path);
  if (!shared) {
    shared = DuckDBInstance.create(path, { ...lockedDownOptions, ...loadOptions }).then(async (instance) => {
      try {
        return { instance, refs: 0, memoryLimit: await loadMemoryLimit(instance) };
      } catch (error) {
        instance.closeSync();
        throw error;
      }
    });
    instances.set(path, shared);
    shared.catch(() => instances.delete(path));
  }
  let handle: Shared;
  try {
    handle = await shared;
  } catch (error) {
    throw connectionFailed(`Could not open DuckDB file ${path} for writing`, error, {
      field: 'configuration.path',
    });
  }
  handle.refs++;
  try {
    return await handle.instance.connect();
  } catch (error) {
    await release(path);
    throw connectionFailed(`Could not open DuckDB file ${path} for writing`, error);
  }
}

async function release(path: string, connection?: DuckDBConnection): Promise<void> {
  connection?.closeSync();
  const shared = instances.get(path);
  if (!shared) return;
  const handle = await shared.catch(() => undefined);
  if (!handle) return;
  if (--handle.refs <= 0 && instances.get(path) === shared) {
    instances.delete(path);
    handle.instance.closeSync();
  }
}

/**
 * A connection on the writer's shared read-write instance of `path` (another connection in the same
 * process can read while loads run; tests use it to watch atomicity). Call `release` when done.
 */
export async function borrowDuckdbConnection(
  path: string,
): Promise<{ connection: DuckDBConnection; release: () => Promise<void> }> {
  const file = resolve(path);
  const connection = await acquire(file);
  return { connection, release: () => release(file, connection) };
}

const lockOf = (path: string) => {
  let lock = locks.get(path);
  if (!lock) {
    lock = new Mutex();
    locks.set(path, lock);
  }
  return lock;
};

const marker = (target: TableTarget) => `ferry staging ${JSON.stringify([target.syncId, target.table])}`;

async function rows(connection: DuckDBConnection, sql: string, values?: (string | null)[]) {
  const reader = await connection.runAndReadAll(sql, values as never);
  return reader.getRowObjectsJson();
}

/** Columns of a table as DuckDB spells their types, or null when the table does not exist. */
async function tableColumns(
  connection: DuckDBConnection,
  namespace: string,
  table: string,
): Promise<Map<string, { type: string; notNull: boolean }> | null> {
  const found = await rows(
    connection,
    `SELECT column_name, data_type, is_nullable FROM duckdb_columns()
     WHERE database_name = current_database() AND schema_name = $1 AND table_name = $2 ORDER BY column_index`,
    [namespace, table],
  );
  if (found.length === 0) return null;
  return new Map(
    found.map((c) => [
      String(c.column_name),
      { type: String(c.data_type), notNull: c.is_nullable === false },
    ]),
  );
}

class DuckdbTableWriter implements TableWriter {
  readonly #path: string;

  constructor(config: DuckdbConfig) {
    this.#path = resolve(config.path);
  }

  async readCursor(target: TableTarget): Promise<CursorPosition | null> {
    if (!existsSync(this.#path)) return null;
    const connection = await acquire(this.#path);
    try {
      if ((await tableColumns(connection, target.namespace, target.table)) === null) return null;
      if ((await tableColumns(connection, target.namespace, STATE_TABLE)) === null) return null;
      const [row] = await rows(
        connection,
        `SELECT cursor_value, cursor_pk FROM ${quoteIdent(target.namespace)}.${STATE_TABLE}
         WHERE sync_id = $1 AND schema_id = $2`,
        [target.syncId, target.schemaId],
      );
      return row && row.cursor_value !== null
        ? { value: String(row.cursor_value), pk: ((row.cursor_pk as string[] | null) ?? []).map(String) }
        : null;
    } catch (error) {
      throw queryFailed(error);
    } finally {
      await release(this.#path, connection);
    }
  }

  async begin(target: TableTarget, options: Parameters<TableWriter['begin']>[1]): Promise<TableLoad> {
    options.signal.throwIfAborted();
    const connection = await acquire(this.#path);
    const { memoryLimit } = await instances.get(this.#path)!;
    const load = new DuckdbLoad(this.#path, connection, target, { ...options, memoryLimit });
    try {
      await load.start();
      return load;
    } catch (error) {
      await release(this.#path, connection);
      if (options.signal.aborted) throw options.signal.reason;
      throw queryFailed(new Error(duckdbMessage(error)));
    }
  }

  async close(): Promise<void> {
    // Loads release the file when they end.
  }
}

type BeginOptions = Parameters<TableWriter['begin']>[1] & { memoryLimit: string };

class DuckdbLoad implements TableLoad {
  readonly #path: string;
  readonly #connection: DuckDBConnection;
  readonly #target: TableTarget;
  readonly #options: BeginOptions;
  readonly #ns: string;
  readonly #final: string;
  readonly #stageName: string;
  readonly #stage: string;
  readonly #state: string;
  #loader: DuckdbStageLoader | undefined;
  /** Staging column types (the destination's where the column exists). */
  #types = new Map<string, string>();
  #done = false;

  constructor(path: string, connection: DuckDBConnection, target: TableTarget, options: BeginOptions) {
    this.#path = path;
    this.#connection = connection;
    this.#target = target;
    this.#options = options;
    this.#ns = quoteIdent(target.namespace);
    this.#final = `${this.#ns}.${quoteIdent(target.table)}`;
    this.#stageName = stagingTableName(target.table, options.attemptId);
    this.#stage = `${this.#ns}.${quoteIdent(this.#stageName)}`;
    this.#state = `${this.#ns}.${STATE_TABLE}`;
  }

  #run(sql: string, values?: (string | null)[]) {
    return this.#connection.run(sql, values as never);
  }

  async start(): Promise<void> {
    const target = this.#target;
    await lockOf(this.#path).run(async () => {
      await this.#run(`CREATE SCHEMA IF NOT EXISTS ${this.#ns}`);
      await this.#run(
        `CREATE TABLE IF NOT EXISTS ${this.#state} (sync_id VARCHAR NOT NULL, schema_id VARCHAR NOT NULL,
           cursor_value VARCHAR, cursor_pk VARCHAR[], updated_at TIMESTAMPTZ NOT NULL)`,
      );
      const stale = await rows(
        this.#connection,
        `SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()
           AND schema_name = $1 AND starts_with(table_name, '${STAGE_PREFIX}') AND comment = $2`,
        [target.namespace, marker(target)],
      );
      for (const { table_name } of stale)
        await this.#run(`DROP TABLE IF EXISTS ${this.#ns}.${quoteIdent(String(table_name))}`);
      // Staging: the destination's columns (types, NOT NULL, CHECK) plus the new ones, plus the load order.
      const existing = this.#rebuilds
        ? null
        : await tableColumns(this.#connection, target.namespace, target.table);
      const columns = new Map<string, { type: string; notNull: boolean }>(existing ?? []);
      for (const column of target.columns)
        if (!columns.has(column.name))
          columns.set(column.name, { type: duckdbColumnType(column.type), notNull: false });
      for (const name of target.primaryKey) {
        const column = columns.get(name);
        if (column) column.notNull = true;
      }
      const checks = existing
        ? await rows(
            this.#connection,
            `SELECT constraint_text FROM duckdb_constraints() WHERE database_name = current_database()
               AND schema_name = $1 AND table_name = $2 AND constraint_type = 'CHECK'`,
            [target.namespace, target.table],
          )
        : [];
      const ddl = [
        ...[...columns].map(([name, c]) => `${quoteIdent(name)} ${c.type}${c.notNull ? ' NOT NULL' : ''}`),
        `${ORD} BIGINT`,
        ...checks.map((c) => String(c.constraint_text)),
      ];
      await this.#run(`CREATE TABLE ${this.#stage} (${ddl.join(', ')})`);
      await this.#run(`COMMENT ON TABLE ${this.#stage} IS ${quoteLiteral(marker(target))}`);
      this.#types = new Map([...columns].map(([name, c]) => [name, c.type]));
    });
    this.#loader = new DuckdbStageLoader({
      connection: this.#connection,
      stage: this.#stage,
      columns: target.columns.map((c) => ({ name: c.name, type: this.#types.get(c.name)!, notNull: false })),
      signal: this.#options.signal,
      onReject: this.#options.onReject,
    });
    await this.#loader.init();
  }

  #check(): DuckdbStageLoader {
    if (this.#done || !this.#loader) throw new Error('load already committed or aborted');
    return this.#loader;
  }

  async write(batch: RowBatch): Promise<void> {
    const loader = this.#check();
    try {
      await loader.write(batch);
    } catch (error) {
      if (this.#options.signal.aborted) throw error;
      throw queryFailed(new Error(duckdbMessage(error)));
    }
  }

  /** The table is recreated from the source's columns (resync_mode rebuild). */
  get #rebuilds(): boolean {
    return this.#options.resync && this.#options.rebuild === true;
  }

  get #cursorColumn(): ColumnSpec | undefined {
    const name = this.#target.cursorColumn;
    return this.#options.mode === 'replicate' && name !== undefined
      ? this.#target.columns.find((c) => c.name === name)
      : undefined;
  }

  async commit(): Promise<LoadResult> {
    const loader = this.#check();
    try {
      const result = await lockOf(this.#path).run(async () => {
        try {
          return await loader.cancellable(() => this.#commit(loader));
        } catch (error) {
          await this.#run('ROLLBACK').catch(() => {});
          throw error;
        } finally {
          await this.#run(`SET GLOBAL memory_limit = '${this.#options.memoryLimit}'`).catch(() => {});
        }
      });
      this.#done = true;
      await release(this.#path, this.#connection);
      return result;
    } catch (error) {
      if (this.#options.signal.aborted) throw error;
      throw queryFailed(new Error(duckdbMessage(error)));
    }
  }

  async #commit(loader: DuckdbStageLoader): Promise<LoadResult> {
    const target = this.#target;
    const swap = this.#options.mode === 'snapshot' || this.#options.resync;
    const pk = target.primaryKey.map(quoteIdent);
    const columns = target.columns.map((c) => quoteIdent(c.name));
    const cursor = this.#cursorColumn;
    const latestFirst = [cursor ? `s.${quoteIdent(cursor.name)} DESC NULLS LAST` : null, `s.${ORD} DESC`]
      .filter(Boolean)
      .join(', ');
    await this.#run('BEGIN TRANSACTION');
    if (this.#rebuilds) await this.#run(`DROP TABLE IF EXISTS ${this.#final}`);
    // Rows sorted by the partition key cluster it: DuckDB's zone maps then skip row groups on filters.
    const order = target.partitionKey ? ` ORDER BY ${quoteIdent(target.partitionKey)}` : '';
    // The last row of each key wins. Keys are almost always unique already, so the staged rows are used
    // as they are (a view), minus the older rows of the few keys loaded more than once: only those rows
    // are ranked (a window keeps each key's rows in memory), the rest is never sorted or copied.
    if (pk.length) {
      const keys = pk.map((k) => `s.${k}`).join(', ');
      // Grouping keys allocates a table of pointers that grows with their number (16 MiB for 20M):
      // the keys are grouped in slices.
      const slices = Math.max(1, Math.ceil(loader.rows / GROUP_SLICE_ROWS));
      await this.#run(`CREATE OR REPLACE TEMP TABLE _ferry_older (${ORD} BIGINT)`);
      for (let i = 0; i < slices; i++)
        await this.#run(
          `INSERT INTO _ferry_older SELECT s.${ORD} FROM ${this.#stage} s
           SEMI JOIN (SELECT ${pk.join(', ')} FROM ${this.#stage} t WHERE ${inSlice(pk, 't', slices, i)}
             GROUP BY ALL HAVING count(*) > 1) d
             ON ${pk.map((k) => `s.${k} = d.${k}`).join(' AND ')}
           QUALIFY row_number() OVER (PARTITION BY ${keys} ORDER BY ${latestFirst}) > 1`,
        );
    }
    await this.#run(
      pk.length
        ? `CREATE OR REPLACE TEMP VIEW _ferry_latest AS SELECT s.* FROM ${this.#stage} s
           ANTI JOIN _ferry_older o ON s.${ORD} = o.${ORD}`
        : `CREATE OR REPLACE TEMP VIEW _ferry_latest AS SELECT * FROM ${this.#stage}`,
    );
    const position = await this.#position(swap);
    if (swap && (await this.#renamable(pk.length > 0))) {
      const inserted = await this.#renameIntoPlace();
      await this.#run('DROP TABLE IF EXISTS temp.main._ferry_older');
      await this.#run('COMMIT');
      return { rowsLoaded: loader.rows, inserted, updated: 0, rejected: loader.rejected, cursor: position };
    }
    const existing = await tableColumns(this.#connection, target.namespace, target.table);
    if (existing === null) {
      const ddl = target.columns.map(
        (c) =>
          `${quoteIdent(c.name)} ${this.#types.get(c.name)}${target.primaryKey.includes(c.name) ? ' NOT NULL' : ''}`,
      );
      await this.#run(`CREATE TABLE ${this.#final} (${ddl.join(', ')})`);
    } else {
      for (const c of target.columns)
        if (!existing.has(c.name))
          await this.#run(
            `ALTER TABLE ${this.#final} ADD COLUMN ${quoteIdent(c.name)} ${this.#types.get(c.name)}`,
          );
    }
    let inserted = 0;
    let updated = 0;
    const list = columns.join(', ');
    if (swap) {
      await this.#run(`DELETE FROM ${this.#final}`);
      inserted = (
        await this.#run(`INSERT INTO ${this.#final} (${list}) SELECT ${list} FROM _ferry_latest${order}`)
      ).rowsChanged;
    } else if (pk.length) {
      // Matched rows are replaced (deleted, then inserted with the rest), not updated in place: DuckDB
      // keeps an UPDATE's old values in memory until commit (a 1M-row update needed ~600 MB), while a
      // DELETE keeps row ids and an INSERT spills. Columns the load does not carry (kept from earlier
      // loads or added outside Ferry) keep their values through `_ferry_kept`.
      const loaded = new Set(target.columns.map((c) => c.name));
      const extra = [...(existing?.keys() ?? [])].filter((name) => !loaded.has(name)).map(quoteIdent);
      const match = (table: string, other: string) =>
        pk.map((k) => `${table}.${k} = ${other}.${k}`).join(' AND ');
      const keys = pk.map((k) => `t.${k}`).join(', ');
      const kept = extra.length
        ? `DISTINCT ON (${keys}) ${keys}, ${extra.map((c) => `t.${c}`).join(', ')}`
        : `DISTINCT ${keys}`;
      // A hash join's table of row pointers is allocated whole (32 MiB for 2M keys) and the buffer
      // pool is small: joins on the load's keys run in slices of at most MERGE_SLICE_ROWS keys.
      const slices = Math.max(1, Math.ceil(loader.rows / MERGE_SLICE_ROWS));
      await this.#run(`SET GLOBAL memory_limit = '${MERGE_MEMORY_LIMIT}'`); // back when the commit ends
      await this.#run(
        `CREATE OR REPLACE TEMP TABLE _ferry_kept AS SELECT ${kept} FROM ${this.#final} t WHERE false`,
      );
      for (let i = 0; i < slices; i++)
        await this.#run(
          `INSERT INTO _ferry_kept SELECT ${kept} FROM ${this.#final} t
           WHERE ${inSlice(pk, 't', slices, i)} AND EXISTS (SELECT 1 FROM _ferry_latest s WHERE ${inSlice(pk, 's', slices, i)} AND ${match('t', 's')})`,
        );
      updated = Number((await rows(this.#connection, 'SELECT count(*) AS n FROM _ferry_kept'))[0]!.n);
      for (let i = 0; i < slices && updated > 0; i++)
        await this.#run(
          `DELETE FROM ${this.#final} t USING (SELECT * FROM _ferry_kept k WHERE ${inSlice(pk, 'k', slices, i)}) k
           WHERE ${match('t', 'k')}`,
        );
      let total = 0;
      for (let i = 0; i < (extra.length ? slices : 1); i++)
        total += (
          await this.#run(
            `INSERT INTO ${this.#final} (${[...columns, ...extra].join(', ')})
             SELECT ${[...columns.map((c) => `s.${c}`), ...extra.map((c) => `k.${c}`)].join(', ')} FROM _ferry_latest s
             ${extra.length ? `LEFT JOIN (SELECT * FROM _ferry_kept k WHERE ${inSlice(pk, 'k', slices, i)}) k ON ${match('s', 'k')} WHERE ${inSlice(pk, 's', slices, i)}` : ''}`,
          )
        ).rowsChanged;
      inserted = total - updated;
      await this.#run('DROP TABLE temp.main._ferry_kept');
    } else {
      inserted = (
        await this.#run(`INSERT INTO ${this.#final} (${list}) SELECT ${list} FROM _ferry_latest${order}`)
      ).rowsChanged;
    }
    await this.#run('DROP VIEW temp.main._ferry_latest');
    await this.#run('DROP TABLE IF EXISTS temp.main._ferry_older');
    await this.#run(`DROP TABLE ${this.#stage}`);
    await this.#run('COMMIT');
    return { rowsLoaded: loader.rows, inserted, updated, rejected: loader.rejected, cursor: position };
  }

  /**
   * The load's greatest (cursor, key), stored with the sync's state; for a merge that loaded nothing,
   * the stored one. Null without a cursor.
   */
  async #position(swap: boolean): Promise<CursorPosition | null> {
    const target = this.#target;
    const cursor = this.#cursorColumn;
    const pk = target.primaryKey.map(quoteIdent);
    let position: CursorPosition | null = null;
    if (cursor) {
      const c = quoteIdent(cursor.name);
      const text = (name: string) => pgTextSql(quoteIdent(name), this.#types.get(name)!);
      const [row] = await rows(
        this.#connection,
        `SELECT ${text(cursor.name)} AS value, [${target.primaryKey.map(text).join(', ')}]::VARCHAR[] AS pk
         FROM _ferry_latest WHERE ${c} IS NOT NULL
         ORDER BY ${[c, ...pk].map((k) => `${k} DESC`).join(', ')} LIMIT 1`,
      );
      position = row ? { value: String(row.value), pk: (row.pk as string[]).map(String) } : null;
      const key = [target.syncId, target.schemaId];
      if (position || swap) {
        await this.#run(`DELETE FROM ${this.#state} WHERE sync_id = $1 AND schema_id = $2`, key);
        if (position)
          await this.#run(
            `INSERT INTO ${this.#state} VALUES ($1, $2, $3, [${position.pk.map(quoteLiteral).join(', ')}]::VARCHAR[], now())`,
            [...key, position.value],
          );
      } else {
        const [stored] = await rows(
          this.#connection,
          `SELECT cursor_value, cursor_pk FROM ${this.#state} WHERE sync_id = $1 AND schema_id = $2`,
          key,
        );
        position =
          stored?.cursor_value != null
            ? {
                value: String(stored.cursor_value),
                pk: ((stored.cursor_pk as string[] | null) ?? []).map(String),
              }
            : null;
      }
    }
    return position;
  }

  /**
   * Whether a snapshot can put the staging table in the destination's place instead of copying its
   * rows (a second copy of the table, in memory and on disk, until the commit): when no key was loaded
   * twice (`deduplicated`: the older rows are listed in `_ferry_older`), no partition key asks for the
   * rows sorted, and the destination has nothing the staging table lacks (an index, a key or a foreign
   * key). The staging table has the destination's columns, types, NOT NULL and CHECK constraints.
   */
  async #renamable(deduplicated: boolean): Promise<boolean> {
    if (this.#target.partitionKey) return false;
    const { namespace, table } = this.#target;
    const older = deduplicated ? '(SELECT count(*) FROM temp.main._ferry_older)' : '0';
    const [found] = await rows(
      this.#connection,
      `SELECT ${older}
         + (SELECT count(*) FROM duckdb_indexes() WHERE database_name = current_database()
              AND schema_name = $1 AND table_name = $2)
         + (SELECT count(*) FROM duckdb_constraints() WHERE database_name = current_database()
              AND ((schema_name = $1 AND table_name = $2 AND constraint_type NOT IN ('CHECK', 'NOT NULL'))
                OR (constraint_type = 'FOREIGN KEY' AND referenced_table = $2))) AS n`,
      [namespace, table],
    );
    return Number(found!.n) === 0;
  }

  /**
   * The staging table, without its load-order column, becomes the destination (dropped first), with
   * the destination's comments. Returns the rows it holds.
   */
  async #renameIntoPlace(): Promise<number> {
    const { namespace, table } = this.#target;
    const [described] = await rows(
      this.#connection,
      `SELECT comment FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = $1
         AND table_name = $2`,
      [namespace, table],
    );
    const columnComments = await rows(
      this.#connection,
      `SELECT column_name, comment FROM duckdb_columns() WHERE database_name = current_database()
         AND schema_name = $1 AND table_name = $2 AND comment IS NOT NULL`,
      [namespace, table],
    );
    const [counted] = await rows(this.#connection, `SELECT count(*) AS n FROM ${this.#stage}`);
    await this.#run('DROP VIEW temp.main._ferry_latest');
    await this.#run(`ALTER TABLE ${this.#stage} DROP COLUMN ${ORD}`);
    await this.#run(`DROP TABLE IF EXISTS ${this.#final}`);
    await this.#run(`ALTER TABLE ${this.#stage} RENAME TO ${quoteIdent(table)}`);
    const comment = described?.comment;
    await this.#run(
      `COMMENT ON TABLE ${this.#final} IS ${comment == null ? 'NULL' : quoteLiteral(String(comment))}`,
    );
    for (const c of columnComments)
      await this.#run(
        `COMMENT ON COLUMN ${this.#final}.${quoteIdent(String(c.column_name))} IS ${quoteLiteral(String(c.comment))}`,
      );
    return Number(counted!.n);
  }

  async abort(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    try {
      await this.#run('ROLLBACK').catch(() => {});
      await lockOf(this.#path).run(() => this.#run(`DROP TABLE IF EXISTS ${this.#stage}`));
    } catch {
      // The next begin of this table removes the stale staging table.
    } finally {
      await release(this.#path, this.#connection);
    }
  }
}

/** Opens a DuckDB file destination: `openWriter` of the duckdb connector type. */
export async function openDuckdbWriter(config: DuckdbConfig): Promise<TableWriter> {
  if (!config.path)
    throw new FerryError('validation_failed', 'DuckDB path is required', { field: 'configuration.path' });
  return new DuckdbTableWriter(config);
}
