import mysql from 'mysql2';
import { FerryError, notFound } from '../../domain/errors.ts';
import type { ReadRequest, RowBatch, TableReader } from '../../engine/bulk/contracts.ts';
import { connectionFailed, queryFailed } from '../errors.ts';
import type { SqlDialect } from '../filter-sql.ts';
import { readClauses } from '../read-sql.ts';
import type { FieldInfo } from '../types.ts';
import {
  abortReason,
  fieldTypeOf,
  keysetAfter,
  pgTimestampText,
  rowLimit,
  stripTrailingSemicolons,
} from '../values.ts';
import { mysqlLogicalType } from './logical-types.ts';
import type { MysqlConfig } from './type.ts';

/**
 * A batch closes at this many rows or characters, whichever first: less than other sources
 * (`BATCH_ROWS`, `BATCH_BYTES` in ../values.ts). Two batches are alive at a time, the one being
 * written and the one filling, and what the driver allocates meanwhile (about 2 KB a row of eleven
 * columns, most of it garbage) must stay within one scavenge of V8's young generation (16 MB
 * semi-spaces): rows alive across two scavenges are promoted to the old generation, which then
 * fills with dead rows until a full collection. The MariaDB→PG bench table, reader and writer
 * alone: peak RSS +110 MB at 5,000 rows a batch, +38 MB at 2,500.
 */
const ROWS_PER_BATCH = 2_000;
const CHARS_PER_BATCH = 1024 * 1024;
const CONNECT_TIMEOUT_MS = 5_000;
const KILL_TIMEOUT_MS = 3_000;
/** The consumer may pause the stream this long (seconds) before the server gives up writing. */
const NET_WRITE_TIMEOUT_S = 3_600;
const BINARY_CHARSET = 63;
/** Errors that mean the connection, not the SQL, failed: server shutdown, connection killed, server gone. */
const CONNECTION_ERRNOS = new Set([1040, 1044, 1045, 1049, 1053, 1152, 1153, 1927, 2006, 2013]);

/**
 * Closes a connection's socket at once. mysql2's `destroy()` only half-closes it (`end()`): a paused
 * socket then never reads what the server still sends, and the server's thread stays blocked writing
 * (killed or not) until `net_write_timeout`, holding its locks.
 */
function closeSocket(connection: mysql.Connection): void {
  connection.destroy();
  (connection as unknown as { stream?: { destroy(): void } }).stream?.destroy();
}

const quoteIdent = (name: string): string => `\`${name.replaceAll('`', '``')}\``;

function isConnectionError(error: unknown): boolean {
  const { errno, fatal, sqlState } = error as { errno?: unknown; fatal?: unknown; sqlState?: unknown };
  if (fatal === true) return true;
  if (typeof errno === 'number' && CONNECTION_ERRNOS.has(errno)) return true;
  return sqlState === undefined && typeof errno !== 'number';
}

/** Column values as the driver hands them to us: text for most types, bytes where text could be binary. */
const typeCast: mysql.TypeCast = (field) => {
  switch (field.type) {
    case 'BLOB':
    case 'TINY_BLOB':
    case 'MEDIUM_BLOB':
    case 'LONG_BLOB':
    case 'STRING':
    case 'VAR_STRING':
    case 'VARCHAR':
    case 'GEOMETRY':
    case 'JSON':
    case 'BIT':
    case 'ENUM':
    case 'SET':
      return field.buffer();
    default:
      return field.string();
  }
};

type Converter = (value: string | Buffer) => string | null;

const zeroDate = (text: string) => text.startsWith('0000-00-00') || /^\d{4}-(00-|\d{2}-00)/.test(text);

const ZERO = 48;
const DOT = 46;

/** `YYYY-MM-DD HH:MM:SS[.ffffff]`, the text of every DATETIME/TIMESTAMP value (`dateStrings`). */
const isDatetimeText = (text: string) =>
  text.length >= 19 &&
  text.charCodeAt(4) === 45 &&
  text.charCodeAt(7) === 45 &&
  text.charCodeAt(10) === 32 &&
  text.charCodeAt(13) === 58 &&
  text.charCodeAt(16) === 58;

/**
 * A DATETIME/TIMESTAMP value as PostgreSQL text (`pgTimestampText` with `zone`), or null for a zero
 * date. The driver's usual text is handled without regular expressions, as a prefix of itself (its
 * fraction's trailing zeros trimmed): this runs for every such value of every row.
 */
function datetimeText(text: string, zone: '+00' | ''): string | null {
  if (!isDatetimeText(text)) return zeroDate(text) ? null : pgTimestampText(text, zone);
  const zeroMonth = text.charCodeAt(5) === ZERO && text.charCodeAt(6) === ZERO;
  const zeroDay = text.charCodeAt(8) === ZERO && text.charCodeAt(9) === ZERO;
  if (zeroMonth || zeroDay) return zeroDate(text) ? null : pgTimestampText(text, zone);
  let end = text.length;
  if (end > 19) {
    if (text.charCodeAt(19) !== DOT) return pgTimestampText(text, zone);
    while (end > 20 && text.charCodeAt(end - 1) === ZERO) end--;
    if (end === 20) end = 19;
  }
  const base = end === text.length ? text : text.slice(0, end);
  return zone ? base + zone : base;
}

/**
 * Converter of one result column to the PostgreSQL text representation, from the column's metadata.
 * Zero dates (`0000-00-00`), which no other database accepts, become NULL.
 */
function converterOf(field: mysql.FieldPacket): Converter {
  const type = field.columnType;
  const binary = field.characterSet === BINARY_CHARSET;
  const T = mysql.Types;
  switch (type) {
    case T.TINY:
      if (field.columnLength === 1) return (value) => (value === '0' ? 'f' : 't');
      return (value) => value.toString();
    case T.BIT:
      if (field.columnLength === 1)
        return (value) => ((value as Buffer).some((byte) => byte !== 0) ? 't' : 'f');
      return (value) => BigInt(`0x${(value as Buffer).toString('hex') || '0'}`).toString();
    case T.TIMESTAMP:
      return (value) => datetimeText(value as string, '+00');
    case T.DATETIME:
      return (value) => datetimeText(value as string, '');
    case T.DATE:
    case T.NEWDATE:
      return (value) => (zeroDate(value as string) ? null : (value as string));
    case T.JSON:
      return (value) => value.toString('utf8');
    case T.GEOMETRY:
      return (value) => `\\x${(value as Buffer).toString('hex')}`;
    default:
      // Numbers and times arrive as text; strings as bytes, which are binary data in binary columns.
      if (binary) return (value) => (typeof value === 'string' ? value : `\\x${value.toString('hex')}`);
      return (value) => (typeof value === 'string' ? value : value.toString('utf8'));
  }
}

/** The `column_type` spelling of a result column, from its protocol metadata. */
function columnTypeOf(field: mysql.FieldPacket): string {
  const T = mysql.Types;
  const length = field.columnLength ?? 0;
  const decimals = field.decimals ?? 0;
  const unsigned = ((field.flags as number) & 32) !== 0 ? ' unsigned' : '';
  const binary = field.characterSet === BINARY_CHARSET;
  switch (field.columnType) {
    case T.TINY:
      return length === 1 ? 'tinyint(1)' : `tinyint${unsigned}`;
    case T.SHORT:
      return `smallint${unsigned}`;
    case T.INT24:
      return `mediumint${unsigned}`;
    case T.LONG:
      return `int${unsigned}`;
    case T.LONGLONG:
      return `bigint${unsigned}`;
    case T.YEAR:
      return 'year';
    case T.BIT:
      return `bit(${length})`;
    case T.DECIMAL:
    case T.NEWDECIMAL: {
      // The display length counts the sign and the point.
      const precision = Math.max(1, length - (decimals > 0 ? 1 : 0) - (unsigned ? 0 : 1));
      return `decimal(${precision},${decimals})`;
    }
    case T.FLOAT:
      return 'float';
    case T.DOUBLE:
      return 'double';
    case T.DATE:
    case T.NEWDATE:
      return 'date';
    case T.TIME:
      return 'time';
    case T.DATETIME:
      return 'datetime';
    case T.TIMESTAMP:
      return 'timestamp';
    case T.JSON:
      return 'json';
    case T.GEOMETRY:
      return 'geometry';
    case T.TINY_BLOB:
    case T.MEDIUM_BLOB:
    case T.LONG_BLOB:
    case T.BLOB:
      return binary ? 'blob' : 'text';
    default:
      return binary ? 'varbinary' : 'varchar';
  }
}

interface ColumnType {
  data_type: string;
  column_type: string;
  numeric_precision: number | null;
  numeric_scale: number | null;
}

/** SQL expression of a cursor/primary key value (PostgreSQL text) typed like its column. */
function typedLiteral(column: ColumnType, text: string, quote: (value: string) => string): string {
  const dataType = column.data_type.toLowerCase();
  const unsigned = /unsigned/i.test(column.column_type);
  switch (dataType) {
    case 'tinyint':
    case 'smallint':
    case 'mediumint':
    case 'int':
    case 'integer':
    case 'bigint':
    case 'year':
    case 'bit': {
      const value = text === 't' ? '1' : text === 'f' ? '0' : text;
      return `cast(${quote(value)} as ${unsigned || dataType === 'bit' ? 'unsigned' : 'signed'})`;
    }
    case 'decimal':
    case 'numeric':
      return `cast(${quote(text)} as decimal(${column.numeric_precision ?? 65},${column.numeric_scale ?? 0}))`;
    case 'float':
    case 'double':
    case 'real':
      return `cast(${quote(text)} as double)`;
    case 'datetime':
    case 'timestamp':
      return `cast(${quote(text.replace(/(?:Z|[+-]\d{2}(?::?\d{2})?)$/, '').replace('T', ' '))} as datetime(6))`;
    case 'date':
      return `cast(${quote(text)} as date)`;
    case 'time':
      return `cast(${quote(text)} as time(6))`;
    case 'binary':
    case 'varbinary':
    case 'tinyblob':
    case 'blob':
    case 'mediumblob':
    case 'longblob':
      return `unhex(${quote(text.replace(/^\\x/, ''))})`;
    default:
      return quote(text);
  }
}

/** The SELECT of a read: exactly `request.columns`, with the clauses of `readClauses`. */
export function selectSql(
  table: string,
  types: Map<string, ColumnType>,
  request: ReadRequest,
  quote: (value: string) => string,
): string {
  const list = request.columns.map((column) => quoteIdent(column.source)).join(', ');
  let sql = `select ${list || 'null'} from ${quoteIdent(table)}`;
  const typeOf = (name: string) => {
    const type = types.get(name);
    if (!type) throw new FerryError('query_failed', `column ${name} not found in ${table}`);
    return type;
  };
  sql += readClauses(request, {
    ident: quoteIdent,
    literal: quote,
    asText: (column) => `cast(${column} as char)`,
    checkColumn: typeOf,
    after: (keys, values) =>
      keysetAfter(
        keys.map(quoteIdent),
        keys.map((key, i) => typedLiteral(typeOf(key), values[i]!, quote)),
      ),
  });
  if (request.limit !== undefined) sql += ` limit ${rowLimit(request.limit)}`;
  return sql;
}

/** Bulk reads of MySQL/MariaDB tables: one streaming query per read, on a connection of its own. */
export class MysqlReader implements TableReader {
  /** How a query over a model names columns and writes values (`source.ts`). */
  readonly queryDialect: SqlDialect = {
    ident: quoteIdent,
    literal: (text) => mysql.escape(text),
    asText: (expression) => `cast(${expression} as char)`,
  };
  readonly #config: MysqlConfig;
  readonly #connections = new Set<mysql.Connection>();

  constructor(config: MysqlConfig) {
    this.#config = config;
  }

  #options(): mysql.ConnectionOptions {
    const config = this.#config;
    return {
      host: config.hostname,
      port: config.port,
      database: config.database,
      user: config.username,
      password: config.password ?? '',
      ssl: config.ssl ? { rejectUnauthorized: false } : undefined,
      connectTimeout: CONNECT_TIMEOUT_MS,
      charset: 'utf8mb4',
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
      decimalNumbers: false,
      multipleStatements: false,
      rowsAsArray: true,
      typeCast,
    };
  }

  #failure(error: unknown): FerryError {
    if (error instanceof FerryError) return error;
    const { hostname, port, password } = this.#config;
    if (isConnectionError(error)) {
      return connectionFailed(`MySQL connection to ${hostname}:${port} failed during a bulk read`, error, {
        secrets: [password],
      });
    }
    return queryFailed(error, [password]);
  }

  async #connect(): Promise<mysql.Connection> {
    const connection = mysql.createConnection(this.#options());
    connection.on('error', () => {}); // reported through the running query
    this.#connections.add(connection);
    try {
      await new Promise<void>((resolve, reject) =>
        connection.connect((error) => (error ? reject(error) : resolve())),
      );
    } catch (error) {
      this.#connections.delete(connection);
      connection.destroy();
      const { hostname, port, password } = this.#config;
      throw connectionFailed(`Could not connect to MySQL at ${hostname}:${port}`, error, {
        secrets: [password],
      });
    }
    const session = connection.promise();
    try {
      await session.query(`set time_zone = '+00:00', net_write_timeout = ${NET_WRITE_TIMEOUT_S}`);
      // No statement time limit for bulk reads (MariaDB / MySQL spelling); the other one fails harmlessly.
      await session.query('set max_statement_time = 0').catch(() => {});
      await session.query('set max_execution_time = 0').catch(() => {});
      return connection;
    } catch (error) {
      this.#drop(connection);
      throw this.#failure(error);
    }
  }

  async #columns(connection: mysql.Connection, table: string): Promise<Map<string, ColumnType>> {
    const [rows] = await connection.promise().query<mysql.RowDataPacket[]>(
      {
        sql: `select column_name as column_name, data_type as data_type, column_type as column_type,
              numeric_precision as numeric_precision, numeric_scale as numeric_scale
            from information_schema.columns where table_schema = database() and table_name = ?`,
        rowsAsArray: false,
        typeCast: true,
      },
      [table],
    );
    const types = new Map<string, ColumnType>();
    for (const row of rows) {
      const get = (key: string) => row[key];
      types.set(String(get('column_name')), {
        data_type: String(get('data_type')),
        column_type: String(get('column_type')),
        numeric_precision: get('numeric_precision') === null ? null : Number(get('numeric_precision')),
        numeric_scale: get('numeric_scale') === null ? null : Number(get('numeric_scale')),
      });
    }
    return types;
  }

  /** Stops the connection's running query from a second connection, then closes the connection. */
  async #drop(connection: mysql.Connection, kill = false): Promise<void> {
    this.#connections.delete(connection);
    if (kill) {
      const killer = mysql.createConnection({ ...this.#options(), connectTimeout: KILL_TIMEOUT_MS });
      killer.on('error', () => {});
      const timer = setTimeout(() => killer.destroy(), KILL_TIMEOUT_MS);
      try {
        await killer.promise().query(`kill query ${Number(connection.threadId)}`);
      } catch {
        // Best effort: the closed socket stops the query when the server next writes.
      } finally {
        clearTimeout(timer);
        killer.destroy();
      }
    }
    closeSocket(connection);
  }

  async *read(request: ReadRequest): AsyncGenerator<RowBatch> {
    yield* this.#rows(async (connection) => {
      const types = await this.#columns(connection, request.schemaId);
      if (types.size === 0) throw notFound('Schema', request.schemaId);
      return selectSql(request.schemaId, types, request, (value) => connection.escape(value));
    }, request.signal);
  }

  /**
   * The fields of a read-only query's result, from the result metadata of the query run with
   * `limit 0`: a bad query fails here with the server's own message.
   */
  async describeQuery(query: string): Promise<FieldInfo[]> {
    const connection = await this.#connect();
    try {
      const [, fields] = await connection
        .promise()
        .query(`select * from (\n${stripTrailingSemicolons(query)}\n) as ferry_model limit 0`);
      return (fields ?? []).map((field) => {
        const remoteType = columnTypeOf(field);
        return {
          name: field.name,
          remoteType,
          type: fieldTypeOf(remoteType),
          nullable: true,
          isPrimaryKey: false,
          logicalType: mysqlLogicalType(remoteType),
        };
      });
    } catch (error) {
      throw this.#failure(error);
    } finally {
      this.#connections.delete(connection);
      connection.destroy();
    }
  }

  /** Streams the rows of a read-only query as text, like `read` does for a table. */
  async *readQuery(query: string, _width: number, signal: AbortSignal): AsyncGenerator<RowBatch> {
    yield* this.#rows(async () => stripTrailingSemicolons(query), signal);
  }

  /**
   * Rows are converted as the driver parses them, straight into the batch being filled: no stream, no
   * promise per row. The next batch fills while the consumer handles one; when it is full too, the
   * connection pauses (the socket stops being read, so the server waits) until the consumer takes it.
   */
  async *#rows(
    sqlOf: (connection: mysql.Connection) => Promise<string>,
    signal: AbortSignal,
  ): AsyncGenerator<RowBatch> {
    if (signal.aborted) throw abortReason(signal);
    let connection: mysql.Connection | undefined;
    let done = false;
    /** Full batches the consumer has not taken yet: one, or more when one socket read held more. */
    const full: RowBatch[] = [];
    let batch: RowBatch = [];
    let bytes = 0;
    let ended = false;
    let failure: { error: unknown } | undefined;
    let wake: (() => void) | undefined;
    const notify = () => {
      const resolve = wake;
      wake = undefined;
      resolve?.();
    };
    const fail = (error: unknown) => {
      failure ??= { error };
      connection?.pause();
      notify();
    };
    const onAbort = () => {
      fail(abortReason(signal));
      if (connection) void this.#drop(connection, true);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      connection = await this.#connect();
      if (signal.aborted) throw abortReason(signal);
      const paused = connection;
      const query = connection.query(await sqlOf(connection));
      let converters: Converter[] = [];
      query.on('fields', (fields?: mysql.FieldPacket[]) => {
        converters = (fields ?? []).map(converterOf);
      });
      query.on('result', (raw: (string | Buffer | null)[]) => {
        if (failure || !Array.isArray(raw)) return; // not a result set row (a statement's OK packet)
        const row: (string | null)[] = new Array(raw.length);
        try {
          for (let i = 0; i < raw.length; i++) {
            const value = raw[i];
            if (value === null || value === undefined) row[i] = null;
            else {
              const text = converters[i]!(value);
              row[i] = text;
              if (text !== null) bytes += text.length;
            }
          }
        } catch (error) {
          fail(error);
          return;
        }
        batch.push(row);
        if (batch.length >= ROWS_PER_BATCH || bytes >= CHARS_PER_BATCH) {
          full.push(batch);
          batch = [];
          bytes = 0;
          paused.pause();
          notify();
        }
      });
      query.on('error', fail);
      query.on('end', () => {
        ended = true;
        notify();
      });
      // A query without a callback does not hear of a lost connection: the connection does.
      connection.on('error', fail);
      connection.on('end', () => fail(new Error('Connection lost: the server closed the connection')));
      for (;;) {
        if (failure) throw failure.error;
        const next = full.shift();
        if (next) {
          // The next batch fills while the consumer writes this one.
          if (full.length === 0 && !ended) paused.resume();
          yield next;
          if (signal.aborted) throw abortReason(signal);
        } else if (ended) break;
        else await new Promise<void>((resolve) => (wake = resolve));
      }
      done = true;
      if (batch.length > 0) yield batch;
    } catch (error) {
      if (signal.aborted) throw abortReason(signal);
      throw this.#failure(error);
    } finally {
      signal.removeEventListener('abort', onAbort);
      if (connection && this.#connections.has(connection)) {
        if (done) {
          this.#connections.delete(connection);
          await connection
            .promise()
            .end()
            .catch(() => connection?.destroy());
        } else await this.#drop(connection, true);
      }
    }
  }

  async estimateRows(schemaId: string): Promise<number | undefined> {
    const connection = await this.#connect();
    try {
      const [rows] = await connection.promise().query<mysql.RowDataPacket[]>({
        sql: 'select table_rows as n from information_schema.tables where table_schema = database() and table_name = ?',
        rowsAsArray: true,
        values: [schemaId],
      });
      const n = rows[0]?.[0];
      return n === null || n === undefined ? undefined : Number(n);
    } catch (error) {
      throw this.#failure(error);
    } finally {
      await this.#drop(connection);
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.#connections].map((connection) => this.#drop(connection, true)));
  }
}
