/**
 * PostgreSQL as a bulk-sync destination.
 *
 * Each load writes into a staging table of its own (`_ferry_stage_<table>_<attempt>`, same schema,
 * tagged with a table comment naming its sync and table), loaded batch by batch with
 * `COPY ... FROM STDIN` in autocommit mode: a refused batch rolls back alone and is bisected until the
 * refused rows are isolated and reported, the rest loads. Nothing visible changes until `commit()`,
 * which runs ONE transaction:
 * - snapshot (and replicate with resync, or the first load of a table that does not exist yet): the
 *   staging table is renamed into place (old table renamed away and dropped), its primary key
 *   attached from an index built beforehand, and the cursor stored; readers see the old complete
 *   table until the commit, the new one after it. When the old table cannot be dropped (a view
 *   depends on it) the same transaction truncates and refills it instead.
 * - replicate: `INSERT ... SELECT DISTINCT ON (pk) ... ON CONFLICT (pk) DO UPDATE` from the staging
 *   table (the last row of a key wins: greatest cursor, then latest loaded), then the cursor.
 * Destination DDL (create table, new columns, the unique index the merge needs) happens inside that
 * same transaction, so a failed or cancelled load changes nothing, not even the table's shape.
 *
 * Cursor state: table `_ferry_state` in the destination schema itself, keyed by (sync_id, schema_id).
 * Keeping it next to the tables it describes means dropping or changing the schema also forgets the
 * cursors (the next run reloads everything), and `readCursor` ignores a cursor whose table is gone.
 *
 * Columns: new source columns are added, columns never dropped (they stay, NULL for new rows). Only
 * primary key columns are NOT NULL. Every identifier is quoted.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { FerryError } from '../../domain/errors.ts';
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
import { connectionFailed, queryFailed } from '../errors.ts';
import { quoteIdent } from '../values.ts';
import { CopyTextEncoder } from './copy-text.ts';
import type { PostgresConfig } from './index.ts';

/** LogicalType → PostgreSQL column type (the docs print this table). */
export const postgresColumnTypes = {
  boolean: 'boolean',
  int16: 'smallint',
  int32: 'integer',
  int64: 'bigint',
  float32: 'real',
  float64: 'double precision',
  decimal: 'numeric(p,s); numeric when unconstrained or p > 1000',
  text: 'text',
  uuid: 'uuid',
  date: 'date',
  time: 'time',
  timestamp: 'timestamp',
  timestamptz: 'timestamptz',
  interval: 'interval',
  json: 'jsonb',
  bytes: 'bytea',
} as const satisfies Record<LogicalType['kind'], string>;

const MAX_NUMERIC_PRECISION = 1000;

export function postgresColumnType(type: LogicalType): string {
  if (type.kind !== 'decimal') return postgresColumnTypes[type.kind];
  const { precision, scale } = type;
  if (precision === undefined || precision < 1 || precision > MAX_NUMERIC_PRECISION) return 'numeric';
  if (scale !== undefined && scale < 0) return 'numeric'; // numeric(p,-s) holds p + s digits: stay unconstrained
  if (scale === undefined) return `numeric(${precision})`;
  return `numeric(${precision},${scale})`; // PostgreSQL 15 accepts scale > precision too
}

const STATE_TABLE = '_ferry_state';
const STAGE_PREFIX = '_ferry_stage_';
const MAX_IDENTIFIER_BYTES = 63;

const hash = (text: string, length: number) =>
  createHash('sha256').update(text).digest('hex').slice(0, length);
const fits = (name: string) => Buffer.byteLength(name) <= MAX_IDENTIFIER_BYTES;

/** `_ferry_stage_<table>_<attempt>`, hashed when it would exceed PostgreSQL's 63 bytes. */
export function stagingTableName(table: string, attemptId: string): string {
  const plain = `${STAGE_PREFIX}${table}_${attemptId}`;
  if (fits(plain)) return plain;
  const short = `${STAGE_PREFIX}${hash(table, 16)}_${attemptId}`;
  return fits(short) ? short : `${STAGE_PREFIX}${hash(`${table}\u0000${attemptId}`, 40)}`;
}

const primaryKeyName = (table: string) =>
  fits(`${table}_pkey`) ? `${table}_pkey` : `_ferry_pk_${hash(table, 32)}`;

/** SQLSTATE classes of a row the destination refuses: data exceptions and integrity violations. */
const isRowError = (error: unknown): boolean => {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' && (/^(22|23)/.test(code) || code === '54000');
};

function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return true; // socket errors, timeouts
  return /^(08|28|3D|57P)/.test(code) || code === '53300';
}

const wrap = (error: unknown, config: PostgresConfig): FerryError =>
  isConnectionError(error)
    ? connectionFailed(`PostgreSQL connection to ${config.hostname}:${config.port} failed`, error, {
        secrets: [config.password],
      })
    : queryFailed(error, [config.password]);

const SESSION_SQL = [
  "set timezone = 'UTC'",
  "set datestyle = 'ISO, MDY'",
  "set intervalstyle = 'postgres'",
  "set bytea_output = 'hex'",
  'set statement_timeout = 0',
].join('; ');

/**
 * A session for loading data: its own connection with the session settings the text values need.
 * The model sync targets use it too, under their own application name.
 */
export async function connect(
  config: PostgresConfig,
  applicationName = 'ferry-writer',
  sessionSql = SESSION_SQL,
): Promise<pg.Client> {
  const client = new pg.Client({
    host: config.hostname,
    port: config.port,
    database: config.database,
    user: config.username,
    password: config.password ?? '',
    ssl: config.ssl ? { rejectUnauthorized: false } : false,
    connectionTimeoutMillis: 10_000,
    application_name: applicationName,
  });
  client.on('error', () => {}); // a dropped connection surfaces on the next query
  try {
    await client.connect();
    await client.query(sessionSql);
    return client;
  } catch (error) {
    await client.end().catch(() => {});
    throw connectionFailed(`Could not connect to PostgreSQL at ${config.hostname}:${config.port}`, error, {
      secrets: [config.password],
    });
  }
}

const relationSql = `select c.oid from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  where n.nspname = $1 and c.relname = $2 and c.relkind in ('r', 'p')`;

async function relationOid(client: pg.Client, namespace: string, table: string): Promise<number | null> {
  const { rows } = await client.query<{ oid: number }>(relationSql, [namespace, table]);
  return rows[0]?.oid ?? null;
}

async function columnsOf(client: pg.Client, oid: number): Promise<Map<string, string>> {
  const { rows } = await client.query<{ name: string; type: string }>(
    `select attname as name, format_type(atttypid, atttypmod) as type from pg_catalog.pg_attribute
     where attrelid = $1 and attnum > 0 and not attisdropped order by attnum`,
    [oid],
  );
  return new Map(rows.map((row) => [row.name, row.type]));
}

const marker = (target: TableTarget) => `ferry staging ${JSON.stringify([target.syncId, target.table])}`;

class PostgresTableWriter implements TableWriter {
  readonly #config: PostgresConfig;

  constructor(config: PostgresConfig) {
    this.#config = config;
  }

  async readCursor(target: TableTarget): Promise<CursorPosition | null> {
    const client = await connect(this.#config);
    try {
      const ns = target.namespace;
      const [state, table] = await Promise.all([
        relationOid(client, ns, STATE_TABLE),
        relationOid(client, ns, target.table),
      ]);
      if (state === null || table === null) return null; // no state, or its table is gone: reload all
      const { rows } = await client.query<{ cursor_value: string | null; cursor_pk: string[] | null }>(
        `select cursor_value, cursor_pk from ${quoteIdent(ns)}.${quoteIdent(STATE_TABLE)}
         where sync_id = $1 and schema_id = $2`,
        [target.syncId, target.schemaId],
      );
      const row = rows[0];
      return row && row.cursor_value !== null ? { value: row.cursor_value, pk: row.cursor_pk ?? [] } : null;
    } catch (error) {
      throw wrap(error, this.#config);
    } finally {
      await client.end().catch(() => {});
    }
  }

  async begin(target: TableTarget, options: Parameters<TableWriter['begin']>[1]): Promise<TableLoad> {
    options.signal.throwIfAborted();
    const client = await connect(this.#config);
    try {
      const load = new PostgresLoad(this.#config, client, target, options);
      await load.start();
      return load;
    } catch (error) {
      await client.end().catch(() => {});
      if (options.signal.aborted) throw options.signal.reason;
      throw wrap(error, this.#config);
    }
  }

  async close(): Promise<void> {
    // Every load and cursor read holds its own connection and closes it.
  }
}

type BeginOptions = Parameters<TableWriter['begin']>[1];

class PostgresLoad implements TableLoad {
  readonly #config: PostgresConfig;
  readonly #client: pg.Client;
  readonly #target: TableTarget;
  readonly #options: BeginOptions;
  readonly #ns: string;
  readonly #final: string;
  readonly #stageName: string;
  readonly #stage: string;
  readonly #state: string;
  /** Staging and final table are swapped (snapshot, resync, a replicate table's first load) rather than merged. */
  #swap: boolean;
  /** The swapped-in table has the source's columns only (resync_mode rebuild). */
  readonly #rebuild: boolean;
  readonly #copySql: string;
  /** Reused batch after batch; replaced after a failed COPY, whose bytes the socket may still hold. */
  #encoder = new CopyTextEncoder();
  #pid = 0;
  #rows = 0;
  #rejected = 0;
  #done = false;

  constructor(config: PostgresConfig, client: pg.Client, target: TableTarget, options: BeginOptions) {
    this.#config = config;
    this.#client = client;
    this.#target = target;
    this.#options = options;
    this.#ns = quoteIdent(target.namespace);
    this.#final = `${this.#ns}.${quoteIdent(target.table)}`;
    this.#stageName = stagingTableName(target.table, options.attemptId);
    this.#stage = `${this.#ns}.${quoteIdent(this.#stageName)}`;
    this.#state = `${this.#ns}.${quoteIdent(STATE_TABLE)}`;
    this.#swap = options.mode === 'snapshot' || options.resync;
    this.#rebuild = options.resync && options.rebuild === true;
    this.#copySql = `copy ${this.#stage} (${target.columns.map((c) => quoteIdent(c.name)).join(', ')}) from stdin`;
  }

  /**
   * Storage parameters of a destination table. Replicate merges update rows in place: its pages keep
   * 10% free, so that an update changing no indexed column stays on its page (a HOT update: no new
   * index entry, one page written), which makes the merge of a few changed rows much cheaper.
   */
  get #storage(): string {
    return this.#options.mode === 'replicate' ? ' with (fillfactor = 90)' : '';
  }

  /** A replicate load that swaps because its table did not exist when it began. */
  get #firstLoad(): boolean {
    return this.#swap && this.#options.mode === 'replicate' && !this.#options.resync;
  }

  get #cursorColumn(): ColumnSpec | undefined {
    const name = this.#target.cursorColumn;
    return this.#options.mode === 'replicate' && name !== undefined
      ? this.#target.columns.find((c) => c.name === name)
      : undefined;
  }

  #columnDdl(column: ColumnSpec): string {
    const pk = this.#target.primaryKey.includes(column.name);
    return `${quoteIdent(column.name)} ${postgresColumnType(column.type)}${pk ? ' not null' : ''}`;
  }

  /** Runs `work`, cancelling the backend's running statement when the signal fires. */
  async #cancellable<T>(work: () => Promise<T>): Promise<T> {
    const { signal } = this.#options;
    signal.throwIfAborted();
    const onAbort = () => void this.#cancelBackend();
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

  async #cancelBackend(): Promise<void> {
    if (!this.#pid) return;
    const other = await connect(this.#config).catch(() => undefined);
    if (!other) return;
    await other.query('select pg_cancel_backend($1)', [this.#pid]).catch(() => {});
    await other.end().catch(() => {});
  }

  #query(sql: string, params?: unknown[]) {
    return this.#client.query(sql, params);
  }

  async start(): Promise<void> {
    const target = this.#target;
    await this.#cancellable(async () => {
      this.#pid = (await this.#query('select pg_backend_pid() as pid')).rows[0].pid;
      // Namespace and state table, serialized between concurrent loads of this schema.
      await this.#query('begin');
      try {
        await this.#query('select pg_advisory_xact_lock(hashtext($1))', [`ferry:${target.namespace}`]);
        const exists = await this.#query('select 1 from pg_catalog.pg_namespace where nspname = $1', [
          target.namespace,
        ]);
        if (exists.rowCount === 0) await this.#query(`create schema ${this.#ns}`);
        await this.#query(
          `create table if not exists ${this.#state} (
             sync_id text not null, schema_id text not null, cursor_value text, cursor_pk text[],
             updated_at timestamptz not null default now(), primary key (sync_id, schema_id))`,
        );
        await this.#query('commit');
      } catch (error) {
        await this.#query('rollback').catch(() => {});
        throw error;
      }
      // Stale staging tables of this table (earlier attempts, crashed runs).
      const stale = await this.#query(
        `select c.relname from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
         where n.nspname = $1 and c.relkind = 'r' and c.relname like '\\_ferry\\_stage\\_%'
           and obj_description(c.oid, 'pg_class') = $2`,
        [target.namespace, marker(target)],
      );
      for (const { relname } of stale.rows)
        await this.#query(`drop table if exists ${this.#ns}.${quoteIdent(relname)}`);
      // The staging table: like the destination (its columns, NOT NULL and CHECK constraints, so that
      // refused rows are caught at load time) plus the new columns.
      await this.#query('begin');
      try {
        const finalOid = await relationOid(this.#client, target.namespace, target.table);
        // A replicate table's first load has nothing to merge into: its stage becomes the table, as a
        // snapshot's does, instead of being copied into a new one (5M rows: 21 s instead of 27 s).
        if (finalOid === null) this.#swap = true;
        const unlogged = this.#swap ? '' : 'unlogged ';
        // A swapped-in stage becomes the destination table.
        const storage = this.#swap ? this.#storage : '';
        if (finalOid === null || this.#rebuild) {
          await this.#query(
            `create ${unlogged}table ${this.#stage} (${target.columns.map((c) => this.#columnDdl(c)).join(', ')})${storage}`,
          );
        } else {
          await this.#query(
            `create ${unlogged}table ${this.#stage} (like ${this.#final} including constraints)${storage}`,
          );
          const existing = await columnsOf(this.#client, finalOid);
          for (const column of target.columns)
            if (!existing.has(column.name))
              await this.#query(`alter table ${this.#stage} add column ${this.#columnDdl(column)}`);
          for (const name of target.primaryKey)
            if (existing.has(name))
              await this.#query(`alter table ${this.#stage} alter column ${quoteIdent(name)} set not null`);
        }
        await this.#query(`comment on table ${this.#stage} is ${pg.escapeLiteral(marker(target))}`);
        await this.#query('commit');
      } catch (error) {
        await this.#query('rollback').catch(() => {});
        throw error;
      }
    });
  }

  #check(): void {
    if (this.#done) throw new Error('load already committed or aborted');
  }

  async #copyText(text: Buffer): Promise<number> {
    const stream = this.#client.query(copyFrom(this.#copySql));
    await pipeline(Readable.from([text]), stream);
    return stream.rowCount;
  }

  /** COPY a batch; when PostgreSQL refuses it, bisect until the refused rows are alone. */
  async #load(rows: RowBatch): Promise<number> {
    if (rows.length === 0) return 0;
    try {
      return await this.#copyText(this.#encoder.encode(rows));
    } catch (error) {
      this.#encoder = new CopyTextEncoder();
      if (this.#options.signal.aborted || !isRowError(error)) throw error;
      if (rows.length === 1) {
        this.#rejected++;
        const rejected: RejectedRow = { row: rows[0]!, reason: (error as Error).message };
        this.#options.onReject(rejected);
        return 0;
      }
      const middle = rows.length >>> 1;
      return (await this.#load(rows.slice(0, middle))) + (await this.#load(rows.slice(middle)));
    }
  }

  async write(batch: RowBatch): Promise<void> {
    this.#check();
    try {
      this.#rows += await this.#cancellable(() => this.#load(batch));
    } catch (error) {
      if (this.#options.signal.aborted) throw error;
      throw wrap(error, this.#config);
    }
  }

  async writeCopyText(stream: Readable): Promise<void> {
    this.#check();
    try {
      this.#rows += await this.#cancellable(async () => {
        const copy = this.#client.query(copyFrom(this.#copySql));
        await pipeline(stream, copy);
        return copy.rowCount;
      });
    } catch (error) {
      stream.destroy();
      if (this.#options.signal.aborted) throw error;
      throw wrap(error, this.#config);
    }
  }

  /** `ORDER BY` putting the row that wins a key first: greatest cursor, then last loaded. */
  #latestFirst(): string {
    const cursor = this.#cursorColumn;
    return [cursor ? `${quoteIdent(cursor.name)} desc nulls last` : null, 'ctid desc']
      .filter(Boolean)
      .join(', ');
  }

  /** Greatest (cursor, pk...) of the staging table, as PostgreSQL text. */
  async #stagedCursor(table = this.#stage): Promise<CursorPosition | null> {
    const cursor = this.#cursorColumn;
    if (!cursor) return null;
    const c = quoteIdent(cursor.name);
    const pk = this.#target.primaryKey.map(quoteIdent);
    const { rows } = await this.#query(
      `select ${c}::text as value, array[${pk.map((k) => `${k}::text`).join(', ')}]::text[] as pk
       from ${table} where ${c} is not null
       order by ${[c, ...pk].map((k) => `${k} desc`).join(', ')} limit 1`,
    );
    return rows[0] ? { value: rows[0].value, pk: rows[0].pk } : null;
  }

  async #storedCursor(): Promise<CursorPosition | null> {
    const { rows } = await this.#query(
      `select cursor_value, cursor_pk from ${this.#state} where sync_id = $1 and schema_id = $2`,
      [this.#target.syncId, this.#target.schemaId],
    );
    return rows[0]?.cursor_value != null
      ? { value: rows[0].cursor_value, pk: rows[0].cursor_pk ?? [] }
      : null;
  }

  async #saveCursor(cursor: CursorPosition | null): Promise<void> {
    const key = [this.#target.syncId, this.#target.schemaId];
    if (cursor === null) {
      await this.#query(`delete from ${this.#state} where sync_id = $1 and schema_id = $2`, key);
      return;
    }
    await this.#query(
      `insert into ${this.#state} (sync_id, schema_id, cursor_value, cursor_pk, updated_at)
       values ($1, $2, $3, $4, now())
       on conflict (sync_id, schema_id) do update
         set cursor_value = excluded.cursor_value, cursor_pk = excluded.cursor_pk, updated_at = now()`,
      [...key, cursor.value, cursor.pk],
    );
  }

  /** Adds to `table` the columns of `wanted` it lacks (types as PostgreSQL spells them). */
  async #addColumns(table: string, oid: number, wanted: Map<string, string>): Promise<void> {
    const existing = await columnsOf(this.#client, oid);
    for (const [name, type] of wanted)
      if (!existing.has(name))
        await this.#query(`alter table ${table} add column ${quoteIdent(name)} ${type}`);
  }

  #specTypes(): Map<string, string> {
    return new Map(this.#target.columns.map((c) => [c.name, postgresColumnType(c.type)]));
  }

  async commit(): Promise<LoadResult> {
    this.#check();
    try {
      const result = await this.#cancellable(() => (this.#swap ? this.#commitSwap() : this.#commitMerge()));
      this.#done = true;
      await this.#client.end().catch(() => {});
      return result;
    } catch (error) {
      await this.#query('rollback').catch(() => {});
      if (this.#options.signal.aborted) throw error;
      throw wrap(error, this.#config);
    }
  }

  /** Indexes the partition key column of `relation` unless an index already leads with it. */
  async #indexPartitionKey(relation: string): Promise<void> {
    const column = this.#target.partitionKey;
    if (column === undefined) return;
    const { rows } = await this.#query(
      `select 1 from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
        where i.indrelid = $1::regclass and a.attname = $2`,
      [relation, column],
    );
    if (rows.length === 0) await this.#query(`create index on ${relation} (${quoteIdent(column)})`);
  }

  async #commitSwap(): Promise<LoadResult> {
    const target = this.#target;
    const pk = target.primaryKey.map(quoteIdent);
    // Built before the swap, like the primary key, so the swap's lock is short.
    await this.#indexPartitionKey(this.#stage);
    const index = `_ferry_pk_${hash(this.#stageName, 32)}`;
    let deduplicated = 0;
    if (pk.length > 0) {
      // The primary key index is built before the swap, so the swap holds its lock only briefly.
      const build = `create unique index ${quoteIdent(index)} on ${this.#stage} (${pk.join(', ')})`;
      try {
        await this.#query(build);
      } catch (error) {
        if ((error as { code?: string }).code !== '23505') throw error;
        const removed = await this.#query(
          `delete from ${this.#stage} s using (
             select ctid, row_number() over (partition by ${pk.join(', ')} order by ${this.#latestFirst()}) as n
             from ${this.#stage}) d
           where s.ctid = d.ctid and d.n > 1`,
        );
        deduplicated = removed.rowCount ?? 0;
        await this.#query(build);
      }
    }
    await this.#query('begin');
    const finalOid = await relationOid(this.#client, target.namespace, target.table);
    if (finalOid !== null && this.#firstLoad) {
      // The table appeared while this first load ran (another sync's): merge into it, replace nothing.
      await this.#query('rollback');
      return this.#commitMerge();
    }
    const stageOid = (await relationOid(this.#client, target.namespace, this.#stageName))!;
    if (finalOid !== null) {
      // Keep every column of the destination, even those the source no longer has (not on rebuild).
      if (!this.#rebuild)
        await this.#addColumns(this.#stage, stageOid, await columnsOf(this.#client, finalOid));
      const old = `_ferry_old_${hash(this.#stageName, 32)}`;
      await this.#query('savepoint swap');
      try {
        await this.#query(`alter table ${this.#final} rename to ${quoteIdent(old)}`);
        await this.#query(`alter table ${this.#stage} rename to ${quoteIdent(target.table)}`);
        await this.#query(`drop table ${this.#ns}.${quoteIdent(old)}`);
      } catch (error) {
        if ((error as { code?: string }).code !== '2BP01') throw error;
        // Views or foreign keys depend on the table: refill it in place instead.
        await this.#query('rollback to savepoint swap');
        await this.#addColumns(this.#final, finalOid, await columnsOf(this.#client, stageOid));
        const columns = [...(await columnsOf(this.#client, stageOid)).keys()].map(quoteIdent).join(', ');
        await this.#query(`truncate ${this.#final}`);
        await this.#query(`insert into ${this.#final} (${columns}) select ${columns} from ${this.#stage}`);
        return this.#finishSwap(deduplicated, false);
      }
    } else {
      await this.#query(`alter table ${this.#stage} rename to ${quoteIdent(target.table)}`);
    }
    await this.#query(`comment on table ${this.#final} is null`);
    if (pk.length > 0) {
      let name = primaryKeyName(target.table);
      if (await this.#nameTaken(name))
        name = `_ferry_pk_${hash(`${target.table}\u0000${this.#stageName}`, 32)}`;
      await this.#query(
        `alter table ${this.#final} add constraint ${quoteIdent(name)} primary key using index ${quoteIdent(index)}`,
      );
    }
    return this.#finishSwap(deduplicated, true);
  }

  async #nameTaken(name: string): Promise<boolean> {
    const { rowCount } = await this.#query(
      `select 1 from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
       where n.nspname = $1 and c.relname = $2`,
      [this.#target.namespace, name],
    );
    return (rowCount ?? 0) > 0;
  }

  /** Inside the swap transaction: cursor, staging table, commit. */
  async #finishSwap(deduplicated: number, renamed: boolean): Promise<LoadResult> {
    let cursor: CursorPosition | null = null;
    if (this.#options.mode === 'replicate') {
      // Resync: the cursor of the rebuilt table; none when it came out empty.
      cursor = await this.#stagedCursor(renamed ? this.#final : this.#stage);
      await this.#saveCursor(cursor);
    }
    if (!renamed) await this.#query(`drop table ${this.#stage}`);
    await this.#query('commit');
    const inserted = this.#rows - deduplicated;
    return { rowsLoaded: this.#rows, inserted, updated: 0, rejected: this.#rejected, cursor };
  }

  async #commitMerge(): Promise<LoadResult> {
    const target = this.#target;
    const pk = target.primaryKey.map(quoteIdent);
    const columns = target.columns.map((c) => quoteIdent(c.name));
    await this.#query('begin');
    let finalOid = await relationOid(this.#client, target.namespace, target.table);
    if (finalOid === null) {
      const key = pk.length
        ? `, constraint ${quoteIdent(primaryKeyName(target.table))} primary key (${pk.join(', ')})`
        : '';
      await this.#query(
        `create table ${this.#final} (${target.columns.map((c) => this.#columnDdl(c)).join(', ')}${key})${this.#storage}`,
      );
      finalOid = (await relationOid(this.#client, target.namespace, target.table))!;
    } else {
      await this.#addColumns(this.#final, finalOid, this.#specTypes());
      if (pk.length) await this.#ensureUniqueKey(finalOid);
    }
    await this.#indexPartitionKey(this.#final);
    let inserted: number;
    let updated = 0;
    if (pk.length) {
      const keySet = new Set(target.primaryKey);
      const set = (
        target.columns.some((c) => !keySet.has(c.name))
          ? target.columns.filter((c) => !keySet.has(c.name))
          : target.columns
      ).map((c) => `${quoteIdent(c.name)} = excluded.${quoteIdent(c.name)}`);
      const { rows } = await this.#query(
        `with merged as (
           insert into ${this.#final} (${columns.join(', ')})
           select distinct on (${pk.join(', ')}) ${columns.join(', ')} from ${this.#stage}
           order by ${pk.join(', ')}, ${this.#latestFirst()}
           on conflict (${pk.join(', ')}) do update set ${set.join(', ')}
           returning (xmax = 0) as inserted)
         select count(*) filter (where inserted)::int as inserted, count(*)::int as total from merged`,
      );
      inserted = rows[0].inserted;
      updated = rows[0].total - inserted;
    } else {
      const result = await this.#query(
        `insert into ${this.#final} (${columns.join(', ')}) select ${columns.join(', ')} from ${this.#stage}`,
      );
      inserted = result.rowCount ?? 0;
    }
    let cursor = await this.#stagedCursor();
    if (cursor) await this.#saveCursor(cursor);
    else cursor = this.#cursorColumn ? await this.#storedCursor() : null; // empty load: the cursor stays
    await this.#query(`drop table ${this.#stage}`);
    await this.#query('commit');
    return { rowsLoaded: this.#rows, inserted, updated, rejected: this.#rejected, cursor };
  }

  /** `ON CONFLICT (pk)` needs a unique index on exactly the key columns: create one when missing. */
  async #ensureUniqueKey(oid: number): Promise<void> {
    const key = [...this.#target.primaryKey].sort();
    const { rowCount } = await this.#query(
      `select 1 from pg_catalog.pg_index i
       where i.indrelid = $1 and i.indisunique and i.indpred is null and i.indexprs is null
         and (select array_agg(a.attname::text order by a.attname::text)
              from unnest(i.indkey[0:i.indnkeyatts - 1]) as k(attnum)
              join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum) = $2::text[]`,
      [oid, key],
    );
    if ((rowCount ?? 0) > 0) return;
    const name = `_ferry_uq_${hash(`${this.#target.namespace}.${this.#target.table}`, 32)}`;
    await this.#query(
      `create unique index ${quoteIdent(name)} on ${this.#final} (${this.#target.primaryKey.map(quoteIdent).join(', ')})`,
    );
  }

  async abort(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    const drop = `drop table if exists ${this.#stage}`;
    try {
      await this.#query('rollback').catch(() => {});
      await this.#query(drop).catch(() => this.#query(drop)); // a late cancel may hit the first try
    } catch {
      // Connection gone: try a fresh one; failing that, the next begin removes the stale table.
      const other = await connect(this.#config).catch(() => undefined);
      await other?.query(drop).catch(() => {});
      await other?.end().catch(() => {});
    } finally {
      await this.#client.end().catch(() => {});
    }
  }
}

/** Opens a PostgreSQL destination: `openWriter` of the postgresql connector type. */
export async function openPostgresWriter(config: PostgresConfig): Promise<TableWriter> {
  return new PostgresTableWriter(config);
}
