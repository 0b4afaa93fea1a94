import mysql from 'mysql2/promise';
import { connectionFailed, queryFailed } from '../../../connectors/errors.ts';
import type { MysqlConfig } from '../../../connectors/mysql/type.ts';
import { FerryError } from '../../../domain/errors.ts';
import type { MappedRecord } from '../plan.ts';
import type { StreamedModelTarget, TargetRequest } from '../targets.ts';
import { type ApplyResult, applyBisected, emptyResult, loadStatePages } from './batch.ts';

/** Change detection state, in the target database next to the records (see the PostgreSQL target). */
const STATE_TABLE = '_ferry_model_state';

const quoteIdent = (name: string) => `\`${name.replaceAll('`', '``')}\``;

type Param = string | number | Buffer | null;

/**
 * A PostgreSQL-text value as MySQL takes it for a column of `dataType`: booleans as 1/0, timestamps
 * without their zone (the session is UTC), `\x..` hex as bytes.
 */
function paramOf(text: string | null, dataType: string): Param {
  if (text === null) return null;
  switch (dataType) {
    case 'tinyint':
    case 'bit':
    case 'smallint':
    case 'mediumint':
    case 'int':
    case 'bigint':
      if (text === 't' || text === 'true') return 1;
      if (text === 'f' || text === 'false') return 0;
      return text;
    case 'datetime':
    case 'timestamp':
      return text.replace('T', ' ').replace(/(?:Z|[+-]\d{2}(?::?\d{2})?)$/, '');
    case 'binary':
    case 'varbinary':
    case 'tinyblob':
    case 'blob':
    case 'mediumblob':
    case 'longblob':
      return text.startsWith('\\x') ? Buffer.from(text.slice(2), 'hex') : text;
    default:
      return text;
  }
}

export async function openMysqlTarget(
  config: MysqlConfig,
  request: TargetRequest,
): Promise<StreamedModelTarget> {
  let connection: mysql.Connection;
  try {
    connection = await mysql.createConnection({
      host: config.hostname,
      port: config.port,
      database: config.database,
      user: config.username,
      password: config.password ?? '',
      ssl: config.ssl ? { rejectUnauthorized: false } : undefined,
      charset: 'utf8mb4',
      connectTimeout: 10_000,
    });
  } catch (error) {
    throw connectionFailed(`Could not connect to MySQL at ${config.hostname}:${config.port}`, error, {
      secrets: [config.password],
    });
  }
  try {
    // Strict: a value that does not fit is refused (and reported) rather than silently truncated.
    await connection.query(
      "set time_zone = '+00:00', sql_mode = concat_ws(',', @@sql_mode, 'STRICT_ALL_TABLES')",
    );
    const [rows] = await connection.query<mysql.RowDataPacket[]>(
      'select column_name as name, data_type as type from information_schema.columns where table_schema = database() and table_name = ?',
      [request.object],
    );
    const typeOf = new Map(rows.map((r) => [String(r.name), String(r.type).toLowerCase()]));
    if (typeOf.size === 0) throw new FerryError('not_found', `target table ${request.object} not found`);
    const types = request.columns.map((column) => {
      const type = typeOf.get(column);
      if (!type)
        throw new FerryError('validation_failed', `target table ${request.object} has no column "${column}"`);
      return type;
    });
    await connection.query(
      `create table if not exists ${STATE_TABLE} (sync_id varchar(36) not null, identity varchar(512) not null,
         hash varchar(32) not null, primary key (sync_id, identity)) character set utf8mb4 collate utf8mb4_bin`,
    );
    return new MysqlModelTarget(connection, config, request, types);
  } catch (error) {
    connection.destroy();
    throw error instanceof FerryError ? error : queryFailed(error, [config.password]);
  }
}

class MysqlModelTarget implements StreamedModelTarget {
  readonly kind = 'streamed' as const;
  readonly #connection: mysql.Connection;
  readonly #config: MysqlConfig;
  readonly #request: TargetRequest;
  readonly #table: string;
  readonly #types: string[];
  #inTransaction = false;
  #snapshotDeleted = 0;

  constructor(connection: mysql.Connection, config: MysqlConfig, request: TargetRequest, types: string[]) {
    this.#connection = connection;
    this.#config = config;
    this.#request = request;
    this.#table = quoteIdent(request.object);
    this.#types = types;
    request.signal.addEventListener('abort', () => connection.destroy(), { once: true });
  }

  #fail(error: unknown): Error {
    if (this.#request.signal.aborted) return this.#request.signal.reason as Error;
    if (error instanceof FerryError) return error;
    return queryFailed(error, [this.#config.password]);
  }

  get #identityColumn(): string {
    return quoteIdent(this.#request.columns[this.#request.identityIndex]!);
  }

  async forget(): Promise<void> {
    try {
      await this.#connection.query(`delete from ${STATE_TABLE} where sync_id = ?`, [this.#request.syncId]);
    } catch (error) {
      throw this.#fail(error);
    }
  }

  async loadState(add: (identity: string, hash: string) => void): Promise<void> {
    try {
      // In key order: `identity` has a binary collation.
      await loadStatePages(async (after, limit) => {
        const [rows] = await this.#connection.query<mysql.RowDataPacket[]>(
          {
            sql: `select identity, hash from ${STATE_TABLE} where sync_id = ?${after === undefined ? '' : ' and identity > ?'}
              order by identity limit ${limit}`,
            rowsAsArray: true,
          },
          after === undefined ? [this.#request.syncId] : [this.#request.syncId, after],
        );
        return rows.map((row) => [String(row[0]), String(row[1])]);
      }, add);
    } catch (error) {
      throw this.#fail(error);
    }
  }

  async begin(): Promise<void> {
    if (this.#request.mode !== 'snapshot') return;
    try {
      await this.#connection.beginTransaction();
      this.#inTransaction = true;
      const [deleted] = await this.#connection.query<mysql.ResultSetHeader>(`delete from ${this.#table}`);
      this.#snapshotDeleted = deleted.affectedRows;
      await this.#connection.query(`delete from ${STATE_TABLE} where sync_id = ?`, [this.#request.syncId]);
    } catch (error) {
      throw this.#fail(error);
    }
  }

  async apply(records: MappedRecord[]): Promise<ApplyResult> {
    if (records.length === 0) return emptyResult();
    try {
      return await applyBisected(records, (batch) => this.#atomic(() => this.#write(batch)));
    } catch (error) {
      throw this.#fail(error);
    }
  }

  async finish(unseen: string[] | undefined): Promise<number> {
    try {
      if (this.#request.mode === 'snapshot') {
        await this.#connection.commit();
        this.#inTransaction = false;
        return this.#snapshotDeleted;
      }
      if (this.#request.mode !== 'replace' || unseen === undefined) return 0;
      return await this.#atomic(async () => {
        for (let i = 0; i < unseen.length; i += 1000) {
          await this.#connection.query(`delete from ${STATE_TABLE} where sync_id = ? and identity in (?)`, [
            this.#request.syncId,
            unseen.slice(i, i + 1000),
          ]);
        }
        const [deleted] = await this.#connection.query<mysql.ResultSetHeader>(
          `delete from ${this.#table} where not exists (select 1 from ${STATE_TABLE} s
             where s.sync_id = ? and s.identity = cast(${this.#table}.${this.#identityColumn} as char))`,
          [this.#request.syncId],
        );
        return deleted.affectedRows;
      });
    } catch (error) {
      throw this.#fail(error);
    }
  }

  async close(): Promise<void> {
    if (this.#inTransaction) await this.#connection.rollback().catch(() => {});
    await this.#connection.end().catch(() => this.#connection.destroy());
  }

  async #atomic<T>(work: () => Promise<T>): Promise<T> {
    const connection = this.#connection;
    if (this.#inTransaction) await connection.query('savepoint ferry_batch');
    else await connection.beginTransaction();
    try {
      const result = await work();
      if (this.#inTransaction) await connection.query('release savepoint ferry_batch');
      else await connection.commit();
      return result;
    } catch (error) {
      await (this.#inTransaction
        ? connection.query('rollback to savepoint ferry_batch')
        : connection.rollback()
      ).catch(() => {});
      throw error;
    }
  }

  async #write(records: MappedRecord[]): Promise<ApplyResult> {
    const result = emptyResult();
    let written: MappedRecord[] = records;
    switch (this.#request.mode) {
      case 'append':
      case 'snapshot':
        await this.#insert(records);
        result.inserted = records;
        break;
      case 'create': {
        const existing = await this.#existing(records);
        result.inserted = records.filter((r) => !existing.has(r.identity));
        await this.#insert(result.inserted);
        break;
      }
      case 'update': {
        const existing = await this.#existing(records);
        result.updated = records.filter((r) => existing.has(r.identity));
        await this.#update(result.updated);
        written = result.updated;
        break;
      }
      case 'updateOrCreate':
      case 'replace': {
        const existing = await this.#existing(records);
        result.updated = records.filter((r) => existing.has(r.identity));
        result.inserted = records.filter((r) => !existing.has(r.identity));
        await this.#update(result.updated);
        await this.#insert(result.inserted);
        break;
      }
      case 'remove': {
        const existing = await this.#existing(records);
        result.deleted = records.filter((r) => existing.has(r.identity));
        if (result.deleted.length > 0) {
          await this.#connection.query(
            `delete from ${this.#table} where ${this.#identityIn()}`,
            this.#identityInParams(result.deleted),
          );
        }
        break;
      }
    }
    if (written.length > 0) {
      await this.#connection.query(
        `insert into ${STATE_TABLE} (sync_id, identity, hash) values ? on duplicate key update hash = values(hash)`,
        [written.map((r) => [this.#request.syncId, r.identity, r.hash])],
      );
    }
    return result;
  }

  /**
   * The rows of identities: `column in (?)`, and for a string column the same bytes too, as a case- or
   * accent-insensitive collation (MySQL's default) would take 'a' for the row of 'A' and write over it.
   */
  #identityIn(): string {
    const column = this.#identityColumn;
    const type = this.#types[this.#request.identityIndex]!;
    return /char|text|^enum$|^set$/.test(type)
      ? `${column} in (?) and binary ${column} in (?)`
      : `${column} in (?)`;
  }

  #identityInParams(records: MappedRecord[]): Param[][] {
    const values = records.map((r) => this.#identityParam(r));
    return this.#identityIn().includes('binary') ? [values, values] : [values];
  }

  #identityParam(record: MappedRecord): Param {
    return paramOf(record.identity, this.#types[this.#request.identityIndex]!);
  }

  #params(record: MappedRecord): Param[] {
    return record.values.map((value, j) => paramOf(value, this.#types[j]!));
  }

  async #insert(records: MappedRecord[]): Promise<void> {
    if (records.length === 0) return;
    const columns = this.#request.columns.map(quoteIdent).join(', ');
    await this.#connection.query(`insert into ${this.#table} (${columns}) values ?`, [
      records.map((r) => this.#params(r)),
    ]);
  }

  async #update(records: MappedRecord[]): Promise<void> {
    const assignments = this.#request.columns.map((c) => `${quoteIdent(c)} = ?`).join(', ');
    for (const record of records) {
      await this.#connection.query(`update ${this.#table} set ${assignments} where ${this.#identityIn()}`, [
        ...this.#params(record),
        ...this.#identityInParams([record]),
      ]);
    }
  }

  /**
   * Identities of the batch that have a row in the target, as the records spell them. Read back as
   * MySQL's text (as `finish` compares them): the driver would turn a bigint past 2^53 into a rounded
   * number and a date into a Date, which never match the records' text.
   */
  async #existing(records: MappedRecord[]): Promise<Set<string>> {
    const [rows] = await this.#connection.query<mysql.RowDataPacket[]>(
      {
        sql: `select cast(${this.#identityColumn} as char) from ${this.#table} where ${this.#identityColumn} in (?)`,
        rowsAsArray: true,
      },
      [records.map((r) => this.#identityParam(r))],
    );
    const found = new Set(rows.map((row) => String(row[0])));
    return new Set(records.filter((r) => found.has(String(this.#identityParam(r)))).map((r) => r.identity));
  }
}
