/**
 * A directory of Parquet files as a bulk-sync destination: table `t` of namespace `ns` is the file
 * `<directory>/<ns>/t.parquet` (`<directory>/t.parquet` when the namespace is empty).
 *
 * Staging: each load writes into a DuckDB database file of its own next to the target,
 * `.<prefix><hash of sync+table>_<attempt>.duckdb` (dot files are not listed by the files source), with
 * the same appender + cast + bisect loader as the DuckDB destination, so memory stays bounded and
 * refused rows are isolated. That DuckDB may touch the target directory only (`allowed_directories`,
 * then external access off and configuration locked). A later `begin` deletes stale staging files.
 *
 * `commit()` writes the whole new file with `COPY (...) TO '.<tmp>.parquet' (FORMAT parquet)` then
 * renames it over `t.parquet` (atomic on one file system: readers see the old or the new file):
 * - snapshot / resync: the deduplicated staging rows (plus NULL for the file's extra columns);
 * - replicate: the old file's rows whose key was not loaded, plus the loaded rows (extra columns
 *   kept from the old row), i.e. an anti-join merge by primary key; keyless tables append.
 * Cursor state: `<directory>/<ns>/_ferry_state.json`, replaced by atomic rename AFTER the data file.
 * A crash between the two renames leaves the new data with the previous cursor: the next run reads
 * the same rows again and merges them by key into the same result (idempotent). Only keyless
 * replicate tables could then hold those rows twice.
 */
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { FerryError } from '../../domain/errors.ts';
import type {
  ColumnSpec,
  CursorPosition,
  LoadResult,
  LogicalType,
  RowBatch,
  TableLoad,
  TableTarget,
  TableWriter,
} from '../../engine/bulk/contracts.ts';
import { DuckdbStageLoader, duckdbColumnType, duckdbMessage, Mutex, pgTextSql } from '../duckdb/writer.ts';
import { lockedDownOptions } from '../duckdb-shared.ts';
import { connectionFailed, queryFailed } from '../errors.ts';
import { quoteIdent, quoteLiteral } from '../values.ts';
import type { FilesConfig } from './type.ts';

/** LogicalType → Parquet column (physical type and logical annotation, as DuckDB writes them). */
export const parquetColumnTypes = {
  boolean: 'BOOLEAN',
  int16: 'INT32 (INT(16))',
  int32: 'INT32',
  int64: 'INT64',
  float32: 'FLOAT',
  float64: 'DOUBLE',
  decimal: 'DECIMAL(p,s) when p <= 38; STRING (exact text) when wider or unconstrained',
  text: 'BYTE_ARRAY (STRING)',
  uuid: 'FIXED_LEN_BYTE_ARRAY(16) (UUID)',
  date: 'INT32 (DATE)',
  time: 'INT64 (TIME, micros)',
  timestamp: 'INT64 (TIMESTAMP, micros, not adjusted to UTC)',
  timestamptz: 'INT64 (TIMESTAMP, micros, adjusted to UTC)',
  interval: 'FIXED_LEN_BYTE_ARRAY(12) (INTERVAL)',
  json: 'BYTE_ARRAY (JSON)',
  bytes: 'BYTE_ARRAY',
} as const satisfies Record<LogicalType['kind'], string>;

const STATE_FILE = '_ferry_state.json';
const STAGE_PREFIX = '.ferry_stage_';

const hash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);
const stagePrefix = (target: TableTarget) =>
  `${STAGE_PREFIX}${hash(`${target.syncId}\u0000${target.table}`)}_`;

/** A namespace or table name must stay one path segment inside the directory. */
function segment(name: string, what: string): string {
  if (name === '' || name === '.' || name === '..' || /[/\\]/.test(name) || name.includes('\0'))
    throw new FerryError('validation_failed', `${what} ${JSON.stringify(name)} cannot be a file name`);
  return name;
}

interface StateFile {
  [syncId: string]: { [schemaId: string]: { cursor_value: string; cursor_pk: string[]; updated_at: string } };
}

const stateLocks = new Map<string, Mutex>();
const stateLock = (path: string) => {
  let lock = stateLocks.get(path);
  if (!lock) {
    lock = new Mutex();
    stateLocks.set(path, lock);
  }
  return lock;
};

function readState(path: string): StateFile {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as StateFile;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
}

/** Read-modify-write of the state file, replaced by an atomic rename. */
async function updateState(path: string, change: (state: StateFile) => void): Promise<void> {
  await stateLock(path).run(async () => {
    const state = readState(path);
    change(state);
    const temp = `${path}.${process.pid}.${Date.now()}.tmp`;
    writeFileSync(temp, `${JSON.stringify(state, null, 2)}\n`);
    renameSync(temp, path);
  });
}

class ParquetTableWriter implements TableWriter {
  readonly #path: string;

  constructor(config: FilesConfig) {
    this.#path = config.path;
  }

  #root(): string {
    try {
      if (!statSync(this.#path).isDirectory()) throw new Error('not a directory');
      return realpathSync(this.#path);
    } catch {
      throw new FerryError('connection_failed', `Directory not found: ${this.#path}`, {
        field: 'configuration.path',
      });
    }
  }

  #directory(target: TableTarget): string {
    const root = this.#root();
    return target.namespace ? join(root, segment(target.namespace, 'namespace')) : root;
  }

  async readCursor(target: TableTarget): Promise<CursorPosition | null> {
    const directory = this.#directory(target);
    if (!existsSync(join(directory, `${segment(target.table, 'table')}.parquet`))) return null;
    const entry = readState(join(directory, STATE_FILE))[target.syncId]?.[target.schemaId];
    return entry ? { value: entry.cursor_value, pk: entry.cursor_pk } : null;
  }

  async begin(target: TableTarget, options: Parameters<TableWriter['begin']>[1]): Promise<TableLoad> {
    options.signal.throwIfAborted();
    const directory = this.#directory(target);
    segment(target.table, 'table');
    mkdirSync(directory, { recursive: true });
    // Stale staging files of this table (earlier attempts, crashed runs), with their WAL and temp files.
    const prefix = stagePrefix(target);
    for (const name of readdirSync(directory))
      if (name.startsWith(prefix)) rmSync(join(directory, name), { recursive: true, force: true });
    const load = new ParquetLoad(directory, target, options);
    try {
      await load.start();
      return load;
    } catch (error) {
      await load.abort();
      if (options.signal.aborted) throw options.signal.reason;
      throw error instanceof FerryError ? error : queryFailed(new Error(duckdbMessage(error)));
    }
  }

  async close(): Promise<void> {}
}

type BeginOptions = Parameters<TableWriter['begin']>[1];

class ParquetLoad implements TableLoad {
  readonly #directory: string;
  readonly #target: TableTarget;
  readonly #options: BeginOptions;
  readonly #stageFile: string;
  readonly #file: string;
  #instance: DuckDBInstance | undefined;
  #connection: DuckDBConnection | undefined;
  #loader: DuckdbStageLoader | undefined;
  /** Columns of the existing file with their DuckDB types (empty when there is none). */
  #old = new Map<string, string>();
  #types = new Map<string, string>();
  #done = false;

  constructor(directory: string, target: TableTarget, options: BeginOptions) {
    this.#directory = directory;
    this.#target = target;
    this.#options = options;
    this.#stageFile = join(directory, `${stagePrefix(target)}${hash(options.attemptId)}.duckdb`);
    this.#file = join(directory, `${target.table}.parquet`);
  }

  /** The new file before its rename: named like the staging files, so stale ones get removed too. */
  get #tempFile(): string {
    return this.#stageFile.replace(/\.duckdb$/, '.parquet');
  }

  async start(): Promise<void> {
    const { enable_external_access, lock_configuration, ...early } = lockedDownOptions;
    try {
      this.#instance = await DuckDBInstance.create(this.#stageFile, early);
      this.#connection = await this.#instance.connect();
    } catch (error) {
      throw connectionFailed(`Could not create a staging database in ${this.#directory}`, error, {
        field: 'configuration.path',
      });
    }
    const c = this.#connection;
    // This DuckDB reads the old file and writes the new one in the target directory, nothing else.
    await c.run(`SET allowed_directories = [${quoteLiteral(`${this.#directory}/`)}]`);
    await c.run(`SET enable_external_access = ${enable_external_access}`);
    await c.run(`SET lock_configuration = ${lock_configuration}`);
    // A rebuild writes the source's columns only: the old file's shape is not carried over.
    if (existsSync(this.#file) && !(this.#options.resync && this.#options.rebuild === true)) {
      const described = (
        await c.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${quoteLiteral(this.#file)})`)
      ).getRowObjectsJson();
      this.#old = new Map(described.map((d) => [String(d.column_name), String(d.column_type)]));
    }
    const target = this.#target;
    this.#types = new Map(
      target.columns.map((column) => [
        column.name,
        this.#old.get(column.name) ?? duckdbColumnType(column.type),
      ]),
    );
    const ddl = target.columns.map(
      (column) =>
        `${quoteIdent(column.name)} ${this.#types.get(column.name)}${target.primaryKey.includes(column.name) ? ' NOT NULL' : ''}`,
    );
    await c.run(`CREATE TABLE stage (${ddl.join(', ')}, _ferry_ord BIGINT)`);
    this.#loader = new DuckdbStageLoader({
      connection: c,
      stage: 'stage',
      columns: target.columns.map((column) => ({
        name: column.name,
        type: this.#types.get(column.name)!,
        notNull: false,
      })),
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

  get #cursorColumn(): ColumnSpec | undefined {
    const name = this.#target.cursorColumn;
    return this.#options.mode === 'replicate' && name !== undefined
      ? this.#target.columns.find((c) => c.name === name)
      : undefined;
  }

  async commit(): Promise<LoadResult> {
    const loader = this.#check();
    try {
      const result = await loader.cancellable(() => this.#commit(loader));
      this.#done = true;
      this.#close();
      return result;
    } catch (error) {
      if (this.#options.signal.aborted) throw error;
      throw error instanceof FerryError ? error : queryFailed(new Error(duckdbMessage(error)));
    }
  }

  async #commit(loader: DuckdbStageLoader): Promise<LoadResult> {
    const c = this.#connection!;
    const target = this.#target;
    const swap = this.#options.mode === 'snapshot' || this.#options.resync;
    const pk = target.primaryKey.map(quoteIdent);
    const cursor = this.#cursorColumn;
    const latestFirst = [cursor ? `${quoteIdent(cursor.name)} DESC NULLS LAST` : null, '_ferry_ord DESC']
      .filter(Boolean)
      .join(', ');
    await c.run(
      pk.length
        ? `CREATE TABLE latest AS SELECT * FROM stage
           QUALIFY row_number() OVER (PARTITION BY ${pk.join(', ')} ORDER BY ${latestFirst}) = 1`
        : 'CREATE TABLE latest AS SELECT * FROM stage',
    );
    // Output columns: the old file's, in order, then the new ones.
    const spec = new Set(target.columns.map((column) => column.name));
    const output = [
      ...this.#old.keys(),
      ...target.columns.map((column) => column.name).filter((n) => !this.#old.has(n)),
    ];
    const typeOf = (name: string) => this.#types.get(name) ?? this.#old.get(name)!;
    const old = `read_parquet(${quoteLiteral(this.#file)})`;
    const hasOld = this.#old.size > 0;
    const match = pk.map((k) => `o.${k} = s.${k}`).join(' AND ');
    const fromLoaded = (name: string) =>
      spec.has(name)
        ? `s.${quoteIdent(name)}`
        : hasOld && !swap && pk.length
          ? `o.${quoteIdent(name)}`
          : `NULL::${typeOf(name)}`;
    const fromOld = (name: string) =>
      this.#old.has(name) ? `o.${quoteIdent(name)}` : `NULL::${typeOf(name)}`;
    const select = (expr: (name: string) => string) =>
      output.map((n) => `${expr(n)} AS ${quoteIdent(n)}`).join(', ');
    let query: string;
    let inserted: number;
    let updated = 0;
    const count = async (sql: string) => Number((await c.runAndReadAll(sql)).getRowsJson()[0]![0]);
    if (swap || !hasOld) {
      query = `SELECT ${select(fromLoaded)} FROM latest s`;
      inserted = await count('SELECT count(*) FROM latest');
    } else if (pk.length) {
      query = `SELECT ${select(fromOld)} FROM ${old} o WHERE NOT EXISTS (SELECT 1 FROM latest s WHERE ${match})
        UNION ALL
        SELECT ${select(fromLoaded)} FROM latest s LEFT JOIN ${old} o ON ${match}`;
      updated = await count(
        `SELECT count(*) FROM latest s WHERE EXISTS (SELECT 1 FROM ${old} o WHERE ${match})`,
      );
      inserted = (await count('SELECT count(*) FROM latest')) - updated;
    } else {
      query = `SELECT ${select(fromOld)} FROM ${old} o UNION ALL SELECT ${select(fromLoaded)} FROM latest s`;
      inserted = await count('SELECT count(*) FROM latest');
    }
    let position: CursorPosition | null = null;
    if (cursor) {
      const q = quoteIdent(cursor.name);
      const text = (name: string) => pgTextSql(quoteIdent(name), typeOf(name));
      const [row] = (
        await c.runAndReadAll(
          `SELECT ${text(cursor.name)} AS value, [${target.primaryKey.map(text).join(', ')}]::VARCHAR[] AS pk
           FROM latest WHERE ${q} IS NOT NULL ORDER BY ${[q, ...pk].map((k) => `${k} DESC`).join(', ')} LIMIT 1`,
        )
      ).getRowObjectsJson();
      position = row ? { value: String(row.value), pk: (row.pk as string[]).map(String) } : null;
    }
    const temp = this.#tempFile;
    // Sorted by the partition key, each row group's min/max statistics let readers skip the others.
    const order = target.partitionKey ? ` ORDER BY ${quoteIdent(target.partitionKey)}` : '';
    await c.run(`COPY (${query}${order}) TO ${quoteLiteral(temp)} (FORMAT parquet)`);
    this.#options.signal.throwIfAborted();
    // Data first, then the cursor (see the top of this file for why that order is safe).
    renameSync(temp, this.#file);
    const statePath = join(this.#directory, STATE_FILE);
    if (cursor) {
      if (position || swap) {
        const next = position;
        await updateState(statePath, (state) => {
          state[target.syncId] ??= {};
          const bySchema = state[target.syncId]!;
          if (next)
            bySchema[target.schemaId] = {
              cursor_value: next.value,
              cursor_pk: next.pk,
              updated_at: new Date().toISOString(),
            };
          else delete bySchema[target.schemaId];
        });
      } else {
        const entry = readState(statePath)[target.syncId]?.[target.schemaId];
        position = entry ? { value: entry.cursor_value, pk: entry.cursor_pk } : null;
      }
    }
    return { rowsLoaded: loader.rows, inserted, updated, rejected: loader.rejected, cursor: position };
  }

  #close(): void {
    try {
      this.#connection?.closeSync();
      this.#instance?.closeSync();
    } catch {
      // already closed
    }
    this.#connection = undefined;
    this.#instance = undefined;
    for (const path of [this.#stageFile, `${this.#stageFile}.wal`, `${this.#stageFile}.tmp`, this.#tempFile])
      rmSync(path, { recursive: true, force: true });
  }

  async abort(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    this.#close();
  }
}

/** Opens a directory as a Parquet destination: `openWriter` of the files connector type. */
export async function openParquetWriter(config: FilesConfig): Promise<TableWriter> {
  return new ParquetTableWriter(config);
}
