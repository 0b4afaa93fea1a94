import { connect } from 'node:net';
import { PassThrough, type Readable } from 'node:stream';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { FerryError, notFound } from '../../domain/errors.ts';
import type { ReadRequest, RowBatch, TableReader } from '../../engine/bulk/contracts.ts';
import { connectionFailed, queryFailed } from '../errors.ts';
import type { SqlDialect } from '../filter-sql.ts';
import { readClauses } from '../read-sql.ts';
import type { FieldInfo } from '../types.ts';
import {
  abortReason,
  BATCH_BYTES,
  BATCH_ROWS,
  fieldTypeOf,
  quoteIdent,
  quoteLiteral,
  rowLimit,
  stripTrailingSemicolons,
} from '../values.ts';
import type { PostgresConfig } from './index.ts';
import { postgresLogicalType } from './logical-types.ts';

const CONNECT_TIMEOUT_MS = 5_000;
const CANCEL_TIMEOUT_MS = 3_000;

/**
 * Session of a bulk read: the text output of every type is fixed (UTC, ISO dates, shortest exact
 * floats, hex bytea), whatever the server or role defaults say.
 */
const SESSION_SQL = `set timezone = 'UTC'; set datestyle = 'ISO, MDY'; set intervalstyle = 'postgres';
  set extra_float_digits = 3; set bytea_output = 'hex'; set client_encoding = 'UTF8'`;

interface Table {
  schema: string;
  name: string;
  reltuples: number;
  relkind: string;
  /** Column name → `format_type` (`numeric(38,10)`, `timestamp with time zone`). */
  types: Record<string, string>;
}

const TABLE_SQL = `
  select n.nspname as schema, c.relname as name, c.reltuples::float8 as reltuples, c.relkind::text as relkind,
    coalesce(json_object_agg(a.attname, format_type(a.atttypid, a.atttypmod)) filter (where a.attname is not null),
      '{}') as types
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  left join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
  where c.relkind in ('r', 'p', 'v', 'm', 'f') and n.nspname || '.' || c.relname = $1
  group by n.nspname, c.relname, c.reltuples, c.relkind
  limit 1`;

/** Types of a query's result columns (type oid, modifier), in order: a domain reports its base type. */
const QUERY_TYPES_SQL = `
  select format_type(u.oid, nullif(u.mod, -1)) as remote, coalesce(b.typname, t.typname) as typname,
    coalesce(b.typcategory, t.typcategory)::text as category,
    format_type(coalesce(b.oid, t.oid), nullif(u.mod, -1)) as base
  from unnest($1::oid[], $2::int[]) with ordinality as u(oid, mod, i)
  join pg_catalog.pg_type t on t.oid = u.oid
  left join pg_catalog.pg_type b on b.oid = t.typbasetype and t.typtype = 'd'
  order by u.i`;

/** Sends a protocol CancelRequest (https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-CANCELING-REQUESTS). */
function sendCancelRequest(host: string, port: number, processID: number, secretKey: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => socket.destroy(), CANCEL_TIMEOUT_MS);
    socket.on('error', () => {}); // best effort: the closed socket ends the backend too
    socket.on('connect', () => {
      const packet = Buffer.alloc(16);
      packet.writeInt32BE(16, 0);
      packet.writeInt32BE(80877102, 4); // the cancel request code
      packet.writeInt32BE(processID, 8);
      packet.writeInt32BE(secretKey, 12);
      socket.end(packet);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** SQLSTATE classes that mean the connection, not the SQL, failed (57P01: terminated by an administrator). */
function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return true; // socket errors, "terminated unexpectedly"
  return /^(08|28|3D)/.test(code) || ['57P01', '57P02', '57P03', '53300'].includes(code);
}

/** Splits `COPY ... TO STDOUT` text into its rows' lines. Rows end at a raw `\n`; escaped newlines are `\n`. */
export class CopyTextLines {
  #pending: Buffer | undefined;

  /** Calls `line` with each row completed by `chunk` (its bytes, without the newline). */
  push(chunk: Buffer, line: (bytes: Buffer) => void): void {
    let start = 0;
    let end = chunk.indexOf(10);
    if (this.#pending && end !== -1) {
      line(Buffer.concat([this.#pending, chunk.subarray(0, end)]));
      this.#pending = undefined;
      start = end + 1;
      end = chunk.indexOf(10, start);
    }
    while (end !== -1) {
      line(chunk.subarray(start, end));
      start = end + 1;
      end = chunk.indexOf(10, start);
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      // Copied: the socket's buffer must not be retained by a partial line.
      this.#pending = this.#pending ? Buffer.concat([this.#pending, rest]) : Buffer.from(rest);
    }
  }

  /** A partial line at the end of the stream is an error. */
  end(): void {
    if (this.#pending?.length) throw new Error('COPY stream ended in the middle of a row');
  }
}

/** The rows of `COPY ... TO STDOUT` text format, in batches of fields (unescaped; null for `\N`). */
export class CopyTextParser {
  readonly #width: number;
  readonly #batchRows: number;
  readonly #lines = new CopyTextLines();
  readonly #line = (line: Buffer) => this.#fields(line);
  #rows: RowBatch = [];
  #bytes = 0;
  readonly batches: RowBatch[] = [];

  /** A batch closes at `batchRows` rows or `BATCH_BYTES` bytes, whichever first. */
  constructor(width: number, batchRows = BATCH_ROWS) {
    this.#width = width;
    this.#batchRows = batchRows;
  }

  push(chunk: Buffer): void {
    this.#lines.push(chunk, this.#line);
  }

  /** Closes the last batch; a partial line at the end of the stream is an error. */
  end(): void {
    this.#lines.end();
    this.#flush();
  }

  #fields(line: Buffer): void {
    const fields = line.toString('utf8').split('\t');
    if (fields.length !== this.#width && !(this.#width === 0 && fields.length === 1)) {
      throw new Error(`COPY row has ${fields.length} fields, expected ${this.#width}`);
    }
    const row: (string | null)[] = new Array(this.#width);
    for (let i = 0; i < this.#width; i++) {
      const field = fields[i]!;
      row[i] = field === '\\N' ? null : unescapeCopyText(field);
    }
    this.#rows.push(row);
    this.#bytes += line.length + 1;
    if (this.#rows.length >= this.#batchRows || this.#bytes >= BATCH_BYTES) this.#flush();
  }

  #flush(): void {
    if (this.#rows.length === 0) return;
    this.batches.push(this.#rows);
    this.#rows = [];
    this.#bytes = 0;
  }
}

const SIMPLE_ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/** Undoes COPY text escaping: `\\`, `\t`, `\n`, `\r`, `\b`, `\f`, `\v`, octal `\123`, hex `\x41`. */
export function unescapeCopyText(field: string): string {
  let slash = field.indexOf('\\');
  if (slash === -1) return field;
  let out = '';
  let from = 0;
  while (slash !== -1) {
    out += field.slice(from, slash);
    const c = field[slash + 1] ?? '';
    let next = slash + 2;
    const simple = SIMPLE_ESCAPES[c];
    if (simple !== undefined) out += simple;
    else if (c >= '0' && c <= '7') {
      const digits = /^[0-7]{1,3}/.exec(field.slice(slash + 1, slash + 4))![0];
      out += String.fromCharCode(Number.parseInt(digits, 8));
      next = slash + 1 + digits.length;
    } else if (c === 'x' && /^[0-9a-fA-F]/.test(field[slash + 2] ?? '')) {
      const digits = /^[0-9a-fA-F]{1,2}/.exec(field.slice(slash + 2, slash + 4))![0];
      out += String.fromCharCode(Number.parseInt(digits, 16));
      next = slash + 2 + digits.length;
    } else out += c; // `\\` and any other escaped character stand for themselves
    from = next;
    slash = field.indexOf('\\', from);
  }
  return out + field.slice(from);
}

/** The SELECT of a read: exactly `request.columns`, with the clauses of `readClauses`. */
export function selectSql(table: Table, request: ReadRequest, literal: (text: string) => string): string {
  const qualified = `${quoteIdent(table.schema)}.${quoteIdent(table.name)}`;
  const list = request.columns.map((column) => quoteIdent(column.source)).join(', ');
  let sql = `select ${list || 'null'} from ${qualified}`;
  const typeOf = (name: string) => {
    const type = table.types[name];
    if (!type)
      throw new FerryError('query_failed', `column ${name} not found in ${table.schema}.${table.name}`);
    return type;
  };
  sql += readClauses(request, {
    ident: quoteIdent,
    literal,
    asText: (column) => `cast(${column} as text)`,
    checkColumn: typeOf,
    after: (keys, values) =>
      `(${keys.map(quoteIdent).join(', ')}) > (${keys.map((key, i) => `cast(${literal(values[i]!)} as ${typeOf(key)})`).join(', ')})`,
  });
  if (request.limit !== undefined) sql += ` limit ${rowLimit(request.limit)}`;
  return sql;
}

interface Session {
  client: pg.Client;
  table: Table;
}

/** The backend's BackendKeyData, kept by pg but not in its types. */
const backendKey = (client: pg.Client) => client as unknown as { processID?: number; secretKey?: number };

/** Bulk reads of PostgreSQL tables through `COPY (SELECT ...) TO STDOUT` on connections of their own. */
export class PostgresReader implements TableReader {
  /** How a query over a model names columns and writes values (`source.ts`). */
  readonly queryDialect: SqlDialect = {
    ident: quoteIdent,
    literal: quoteLiteral,
    asText: (expression) => `cast(${expression} as text)`,
  };
  readonly #config: PostgresConfig;
  readonly #clients = new Set<pg.Client>();
  /**
   * Sessions opened for a table's row estimate, kept for the read of that table that follows: one
   * connection (and one look-up of the table) per table instead of two.
   */
  readonly #parked = new Map<string, Promise<Session>>();

  constructor(config: PostgresConfig) {
    this.#config = config;
  }

  #clientConfig(): pg.ClientConfig {
    const config = this.#config;
    return {
      host: config.hostname,
      port: config.port,
      database: config.database,
      user: config.username,
      password: config.password ?? '',
      ssl: config.ssl ? { rejectUnauthorized: false } : false,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      application_name: 'ferry-bulk-read',
    };
  }

  #failure(error: unknown): FerryError {
    if (error instanceof FerryError) return error;
    const { hostname, port, password } = this.#config;
    if (isConnectionError(error)) {
      return connectionFailed(
        `PostgreSQL connection to ${hostname}:${port} failed during a bulk read`,
        error,
        {
          secrets: [password],
        },
      );
    }
    return queryFailed(error, [password]);
  }

  /** A connection of its own with the bulk session settings. */
  async #open(): Promise<pg.Client> {
    const client = new pg.Client(this.#clientConfig());
    client.on('error', () => {}); // reported through the query or stream that is running
    this.#clients.add(client);
    try {
      await client.connect();
    } catch (error) {
      this.#clients.delete(client);
      const { hostname, port, password } = this.#config;
      throw connectionFailed(`Could not connect to PostgreSQL at ${hostname}:${port}`, error, {
        secrets: [password],
      });
    }
    try {
      await client.query(SESSION_SQL);
      // PostgreSQL 14+: a backend notices a vanished client within a second even while it computes.
      await client.query(`set client_connection_check_interval = 1000`).catch(() => {});
      return client;
    } catch (error) {
      this.#drop(client);
      throw this.#failure(error);
    }
  }

  async #connect(schemaId: string): Promise<Session> {
    const parked = this.#parked.get(schemaId);
    if (parked) {
      this.#parked.delete(schemaId);
      const session = await parked.catch(() => undefined);
      if (session && this.#clients.has(session.client)) return session;
    }
    const client = await this.#open();
    try {
      const table = (await client.query<Table>(TABLE_SQL, [schemaId])).rows[0];
      if (!table) throw notFound('Schema', schemaId);
      return { client, table };
    } catch (error) {
      this.#drop(client);
      throw this.#failure(error);
    }
  }

  /**
   * Closes a connection at once. With `cancel`, its running query is cancelled first, the way libpq's
   * PQcancel does it: a CancelRequest carrying the backend's secret key on a connection of its own (no
   * login needed, and it can never hit another backend that reused the process id).
   */
  async #drop(client: pg.Client, cancel = false): Promise<void> {
    if (!this.#clients.delete(client)) return;
    const { processID, secretKey } = backendKey(client);
    if (cancel && processID !== undefined && secretKey !== undefined) {
      await sendCancelRequest(this.#config.hostname, this.#config.port, processID, secretKey);
    }
    client.connection.stream.destroy();
  }

  async #finish(client: pg.Client): Promise<void> {
    this.#clients.delete(client);
    await client.end().catch(() => {});
  }

  #copySql(session: Session, request: ReadRequest): string {
    return `copy (${selectSql(session.table, request, (text) => session.client.escapeLiteral(text))}) to stdout`;
  }

  async *read(request: ReadRequest): AsyncGenerator<RowBatch> {
    yield* this.#copyRows(
      async () => {
        const session = await this.#connect(request.schemaId);
        return { client: session.client, sql: this.#copySql(session, request) };
      },
      request.columns.length,
      request.signal,
    );
  }

  /**
   * The fields of a read-only query's result: name, type as PostgreSQL formats it, portable type.
   * Runs the query with `limit 0`, so a bad query fails here with the database's own message.
   */
  async describeQuery(query: string): Promise<FieldInfo[]> {
    const client = await this.#open();
    try {
      const result = await client.query(
        `select * from (\n${stripTrailingSemicolons(query)}\n) as ferry_model limit 0`,
      );
      const types = await client.query<{ remote: string; typname: string; category: string; base: string }>(
        QUERY_TYPES_SQL,
        [result.fields.map((f) => f.dataTypeID), result.fields.map((f) => f.dataTypeModifier)],
      );
      return result.fields.map((field, i) => {
        const type = types.rows[i]!;
        return {
          name: field.name,
          remoteType: type.remote,
          type: fieldTypeOf(type.remote),
          nullable: true,
          isPrimaryKey: false,
          logicalType: postgresLogicalType(type.typname, type.category, type.base),
        };
      });
    } catch (error) {
      throw this.#failure(error);
    } finally {
      await this.#finish(client);
    }
  }

  /**
   * Streams the rows of a read-only query (`width` columns) as text, like `read` does for a table, in
   * batches of at most `batchRows` rows (default `BATCH_ROWS`).
   */
  async *readQuery(
    query: string,
    width: number,
    signal: AbortSignal,
    batchRows?: number,
  ): AsyncGenerator<RowBatch> {
    yield* this.#copyRows(
      async () => ({
        client: await this.#open(),
        sql: `copy (\n${stripTrailingSemicolons(query)}\n) to stdout`,
      }),
      width,
      signal,
      batchRows,
    );
  }

  async *#copyRows(
    start: () => Promise<{ client: pg.Client; sql: string }>,
    width: number,
    signal: AbortSignal,
    batchRows?: number,
  ): AsyncGenerator<RowBatch> {
    if (signal.aborted) throw abortReason(signal);
    let client: pg.Client | undefined;
    let stream: Readable | undefined;
    let done = false;
    const onAbort = () => {
      stream?.destroy();
      if (client) void this.#drop(client, true);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const started = await start();
      client = started.client;
      if (signal.aborted) throw abortReason(signal);
      stream = client.query(copyTo(started.sql));
      const parser = new CopyTextParser(width, batchRows);
      for await (const chunk of stream) {
        parser.push(chunk as Buffer);
        while (parser.batches.length > 0) {
          yield parser.batches.shift()!;
          if (signal.aborted) throw abortReason(signal);
        }
      }
      parser.end();
      done = true;
      for (const batch of parser.batches) yield batch;
    } catch (error) {
      if (signal.aborted) throw abortReason(signal);
      throw this.#failure(error);
    } finally {
      signal.removeEventListener('abort', onAbort);
      if (client) {
        // Stopped early (error, abort, consumer break): the server may still be sending rows.
        if (done) await this.#finish(client);
        else await this.#drop(client, true);
      }
    }
  }

  copyText(request: ReadRequest): Readable {
    return this.#copyStream(async () => {
      const session = await this.#connect(request.schemaId);
      return { client: session.client, sql: this.#copySql(session, request) };
    }, request.signal);
  }

  /**
   * The rows of a read-only query as a COPY text byte stream, unparsed (model syncs). `parallel` plans
   * the scan for parallel workers however many rows it returns (worth it when it computes per row, as
   * hashing does), which gives up the rows' order.
   */
  copyQueryText(query: string, options: { parallel: boolean; signal: AbortSignal }): Readable {
    return this.#copyStream(async () => {
      const client = await this.#open();
      if (options.parallel) await client.query('set parallel_setup_cost = 0; set parallel_tuple_cost = 0');
      return { client, sql: `copy (\n${stripTrailingSemicolons(query)}\n) to stdout` };
    }, options.signal);
  }

  /** The bytes of a `COPY ... TO STDOUT`; the connection is closed with the stream. */
  #copyStream(start: () => Promise<{ client: pg.Client; sql: string }>, signal: AbortSignal): Readable {
    const out = new PassThrough();
    let client: pg.Client | undefined;
    let cleaned = false;
    const onAbort = () => out.destroy(abortReason(signal) as Error);
    const cleanup = (ok: boolean) => {
      if (cleaned) return;
      cleaned = true;
      signal.removeEventListener('abort', onAbort);
      if (!client) return;
      if (ok) void this.#finish(client);
      else void this.#drop(client, true);
    };
    if (signal.aborted) {
      process.nextTick(onAbort);
      return out;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    start().then(
      (opened) => {
        client = opened.client;
        if (out.destroyed) return cleanup(false);
        const copy = opened.client.query(copyTo(opened.sql));
        copy.on('error', (error) => {
          out.destroy(signal.aborted ? (abortReason(signal) as Error) : this.#failure(error));
        });
        // Closed by the consumer (fully read, destroyed, aborted): the connection goes with it.
        out.on('close', () => cleanup(copy.readableEnded));
        copy.pipe(out);
      },
      (error) => {
        out.destroy(signal.aborted ? (abortReason(signal) as Error) : this.#failure(error));
        cleanup(false);
      },
    );
    return out;
  }

  /** The table's row estimate, from the session its read will use (see `#parked`). */
  async estimateRows(schemaId: string): Promise<number | undefined> {
    let session = this.#parked.get(schemaId);
    if (!session) {
      session = this.#connect(schemaId);
      this.#parked.set(schemaId, session);
    }
    const { reltuples, relkind } = (await session).table;
    return relkind === 'v' || reltuples < 0 ? undefined : Math.round(reltuples);
  }

  async close(): Promise<void> {
    await Promise.all([...this.#clients].map((client) => this.#drop(client, true)));
  }
}
