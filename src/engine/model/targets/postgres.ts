import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { queryFailed } from '../../../connectors/errors.ts';
import type { PostgresConfig } from '../../../connectors/postgres/index.ts';
import { CopyTextParser } from '../../../connectors/postgres/reader.ts';
import { connect } from '../../../connectors/postgres/writer.ts';
import { quoteIdent, quoteLiteral } from '../../../connectors/values.ts';
import { FerryError } from '../../../domain/errors.ts';
import type { MappedRecord } from '../plan.ts';
import type { ModelTarget, TargetRequest } from '../targets.ts';
import { type ApplyResult, applyBisected, emptyResult } from './batch.ts';

/**
 * Change detection state lives in the target database, next to the records, in the target table's
 * schema: a batch and the hashes of what it wrote commit in one transaction.
 */
const STATE_TABLE = '_ferry_model_state';

/**
 * Identity column types whose text form is the one the records carry, so that `RETURNING id::text`
 * names the record a row came from.
 */
const exactTextTypes = /^(smallint|integer|bigint|text|uuid|character varying(\(\d+\))?)$/;

const SESSION_SQL = "set timezone = 'UTC'; set datestyle = 'ISO, MDY'; set statement_timeout = 0";

/** `public.users` → [public, users]; a name without a schema is in `public`. */
function splitObject(object: string): [string, string] {
  const dot = object.indexOf('.');
  return dot === -1 ? ['public', object] : [object.slice(0, dot), object.slice(dot + 1)];
}

export async function openPostgresTarget(
  config: PostgresConfig,
  request: TargetRequest,
): Promise<ModelTarget> {
  const client = await connect(config, 'ferry-model-sync', SESSION_SQL);
  try {
    const [schema, table] = splitObject(request.object);
    const { rows } = await client.query<{ name: string; type: string }>(
      `select a.attname as name, format_type(a.atttypid, a.atttypmod) as type
       from pg_catalog.pg_attribute a join pg_catalog.pg_class c on c.oid = a.attrelid
       join pg_catalog.pg_namespace n on n.oid = c.relnamespace
       where n.nspname = $1 and c.relname = $2 and a.attnum > 0 and not a.attisdropped`,
      [schema, table],
    );
    const typeOf = new Map(rows.map((r) => [r.name, r.type]));
    if (typeOf.size === 0) throw new FerryError('not_found', `target table ${request.object} not found`);
    const types = request.columns.map((column) => {
      const type = typeOf.get(column);
      if (!type)
        throw new FerryError('validation_failed', `target table ${request.object} has no column "${column}"`);
      return type;
    });
    const identity = request.columns[request.identityIndex];
    const [keyed] = identity
      ? (
          await client.query<{ unique: boolean }>(
            `select exists (select 1 from pg_catalog.pg_index i
               join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
               where i.indrelid = to_regclass($1) and i.indisunique and i.indnkeyatts = 1
                 and i.indpred is null and a.attname = $2) as unique`,
            [`${quoteIdent(schema)}.${quoteIdent(table)}`, identity],
          )
        ).rows
      : [];
    const state = `${quoteIdent(schema)}.${STATE_TABLE}`;
    await client.query(
      `create table if not exists ${state} (sync_id text not null, identity text not null, hash text not null,
         primary key (sync_id, identity))`,
    );
    return new PostgresModelTarget(client, config, request, {
      table: `${quoteIdent(schema)}.${quoteIdent(table)}`,
      state,
      types,
      upsertable: keyed?.unique === true && exactTextTypes.test(types[request.identityIndex]!),
    });
  } catch (error) {
    await client.end().catch(() => {});
    throw error instanceof FerryError ? error : queryFailed(error, [config.password]);
  }
}

class PostgresModelTarget implements ModelTarget {
  readonly #client: pg.Client;
  readonly #config: PostgresConfig;
  readonly #request: TargetRequest;
  readonly #table: string;
  readonly #state: string;
  readonly #types: string[];
  /** The identity has a unique index of its own: one `INSERT ... ON CONFLICT` per batch. */
  readonly #upsertable: boolean;
  #inTransaction = false;
  #snapshotDeleted = 0;

  constructor(
    client: pg.Client,
    config: PostgresConfig,
    request: TargetRequest,
    names: { table: string; state: string; types: string[]; upsertable: boolean },
  ) {
    this.#client = client;
    this.#config = config;
    this.#request = request;
    this.#table = names.table;
    this.#state = names.state;
    this.#types = names.types;
    this.#upsertable = names.upsertable;
    // Cancel reaches the running statement: the connection goes, and the open transaction with it.
    request.signal.addEventListener('abort', () => client.connection.stream.destroy(), { once: true });
  }

  #fail(error: unknown): Error {
    if (this.#request.signal.aborted) return this.#request.signal.reason as Error;
    if (error instanceof FerryError) return error;
    return queryFailed(error, [this.#config.password]);
  }

  async loadState(): Promise<Map<string, string>> {
    const state = new Map<string, string>();
    try {
      const stream = this.#client.query(
        copyTo(
          `copy (select identity, hash from ${this.#state} where sync_id = ${quoteLiteral(this.#request.syncId)}) to stdout`,
        ),
      );
      const parser = new CopyTextParser(2);
      const drain = () => {
        for (const batch of parser.batches.splice(0))
          for (const [identity, hash] of batch) state.set(identity!, hash!);
      };
      for await (const chunk of stream) {
        parser.push(chunk as Buffer);
        drain();
      }
      parser.end();
      drain();
      return state;
    } catch (error) {
      throw this.#fail(error);
    }
  }

  async begin(): Promise<void> {
    if (this.#request.mode !== 'snapshot') return;
    try {
      await this.#client.query('begin');
      this.#inTransaction = true;
      this.#snapshotDeleted = (await this.#client.query(`delete from ${this.#table}`)).rowCount ?? 0;
      await this.#client.query(`delete from ${this.#state} where sync_id = $1`, [this.#request.syncId]);
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
        await this.#client.query('commit');
        this.#inTransaction = false;
        return this.#snapshotDeleted;
      }
      if (this.#request.mode !== 'replace' || unseen === undefined) return 0;
      return await this.#atomic(async () => {
        await this.#client.query(
          `delete from ${this.#state} where sync_id = $1 and identity = any($2::text[])`,
          [this.#request.syncId, unseen],
        );
        const id = quoteIdent(this.#request.columns[this.#request.identityIndex]!);
        const deleted = await this.#client.query(
          `delete from ${this.#table} as t where not exists (select 1 from ${this.#state} s
             where s.sync_id = $1 and s.identity = t.${id}::text)`,
          [this.#request.syncId],
        );
        return deleted.rowCount ?? 0;
      });
    } catch (error) {
      throw this.#fail(error);
    }
  }

  async close(): Promise<void> {
    if (this.#inTransaction) await this.#client.query('rollback').catch(() => {});
    await this.#client.end().catch(() => {});
  }

  /** A transaction, or a savepoint inside the snapshot's transaction. */
  async #atomic<T>(work: () => Promise<T>): Promise<T> {
    const client = this.#client;
    await client.query(this.#inTransaction ? 'savepoint ferry_batch' : 'begin');
    try {
      const result = await work();
      await client.query(this.#inTransaction ? 'release savepoint ferry_batch' : 'commit');
      return result;
    } catch (error) {
      await client
        .query(this.#inTransaction ? 'rollback to savepoint ferry_batch' : 'rollback')
        .catch(() => {});
      throw error;
    }
  }

  async #write(records: MappedRecord[]): Promise<ApplyResult> {
    const { mode, identityIndex } = this.#request;
    const result = emptyResult();
    let written: MappedRecord[];
    switch (mode) {
      case 'append':
      case 'snapshot':
        await this.#insert(records);
        result.inserted = records;
        written = records;
        break;
      case 'create': {
        if (this.#upsertable) {
          const { inserted } = await this.#upsert(records, false);
          result.inserted = records.filter((r) => inserted.has(r.identity));
          written = records;
          break;
        }
        const existing = await this.#existing(records);
        result.inserted = records.filter((r) => !existing.has(r.identity));
        await this.#insert(result.inserted);
        written = records; // existing rows are never touched again by create
        break;
      }
      case 'update': {
        const updated = await this.#update(records);
        result.updated = records.filter((r) => updated.has(r.identity));
        written = result.updated;
        break;
      }
      case 'updateOrCreate':
      case 'replace': {
        if (this.#upsertable) {
          const { inserted, updated } = await this.#upsert(records, true);
          result.inserted = records.filter((r) => inserted.has(r.identity));
          result.updated = records.filter((r) => updated.has(r.identity));
          written = records;
          break;
        }
        const updated = await this.#update(records);
        result.updated = records.filter((r) => updated.has(r.identity));
        result.inserted = records.filter((r) => !updated.has(r.identity));
        await this.#insert(result.inserted);
        written = records;
        break;
      }
      case 'remove': {
        const ids = records.map((r) => r.identity);
        const deleted = await this.#client.query<{ id: string }>(
          `delete from ${this.#table} as t using unnest($1::text[]) as v(id)
           where t.${quoteIdent(this.#request.columns[identityIndex]!)} = cast(v.id as ${this.#types[identityIndex]})
           returning v.id`,
          [ids],
        );
        const gone = new Set(deleted.rows.map((r) => r.id));
        result.deleted = records.filter((r) => gone.has(r.identity));
        written = records;
        break;
      }
    }
    await this.#remember(written);
    return result;
  }

  /** `unnest($1::text[], ...) as v(c0, ...)` over the records' values, and its parameters. */
  #values(records: MappedRecord[]) {
    const columns = this.#request.columns;
    const params = columns.map((_, j) => records.map((r) => r.values[j] ?? null));
    const from = `unnest(${columns.map((_, j) => `$${j + 1}::text[]`).join(', ')}) as v(${columns.map((_, j) => `c${j}`).join(', ')})`;
    return { from, params };
  }

  #cast(j: number): string {
    return `cast(v.c${j} as ${this.#types[j]})`;
  }

  async #insert(records: MappedRecord[]): Promise<void> {
    if (records.length === 0) return;
    const { from, params } = this.#values(records);
    const columns = this.#request.columns;
    await this.#client.query(
      `insert into ${this.#table} (${columns.map(quoteIdent).join(', ')})
       select ${columns.map((_, j) => this.#cast(j)).join(', ')} from ${from}`,
      params,
    );
  }

  /** One `INSERT ... ON CONFLICT` on the identity: `update` false leaves existing rows alone. */
  async #upsert(records: MappedRecord[], update: boolean) {
    const { from, params } = this.#values(records);
    const columns = this.#request.columns;
    const id = quoteIdent(columns[this.#request.identityIndex]!);
    const assignments = columns.map((c) => `${quoteIdent(c)} = excluded.${quoteIdent(c)}`).join(', ');
    const { rows } = await this.#client.query<{ id: string; inserted: boolean }>(
      `insert into ${this.#table} as t (${columns.map(quoteIdent).join(', ')})
       select ${columns.map((_, j) => this.#cast(j)).join(', ')} from ${from}
       on conflict (${id}) do ${update ? `update set ${assignments}` : 'nothing'}
       returning t.${id}::text as id, (t.xmax = 0) as inserted`,
      params,
    );
    const inserted = new Set<string>();
    const updated = new Set<string>();
    for (const row of rows) (row.inserted ? inserted : updated).add(row.id);
    return { inserted, updated };
  }

  /** Updates the rows whose identity matches; returns the identities updated. */
  async #update(records: MappedRecord[]): Promise<Set<string>> {
    const { from, params } = this.#values(records);
    const columns = this.#request.columns;
    const id = this.#request.identityIndex;
    const { rows } = await this.#client.query<{ id: string }>(
      `update ${this.#table} as t set ${columns.map((c, j) => `${quoteIdent(c)} = ${this.#cast(j)}`).join(', ')}
       from (select * from ${from}) as v
       where t.${quoteIdent(columns[id]!)} = ${this.#cast(id)} returning v.c${id} as id`,
      params,
    );
    return new Set(rows.map((r) => r.id));
  }

  async #existing(records: MappedRecord[]): Promise<Set<string>> {
    const id = this.#request.identityIndex;
    const { rows } = await this.#client.query<{ id: string }>(
      `select v.id from unnest($1::text[]) as v(id) where exists (select 1 from ${this.#table} t
         where t.${quoteIdent(this.#request.columns[id]!)} = cast(v.id as ${this.#types[id]}))`,
      [records.map((r) => r.identity)],
    );
    return new Set(rows.map((r) => r.id));
  }

  async #remember(records: MappedRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.#client.query(
      `insert into ${this.#state} (sync_id, identity, hash) select $1, * from unnest($2::text[], $3::text[])
       on conflict (sync_id, identity) do update set hash = excluded.hash`,
      [this.#request.syncId, records.map((r) => r.identity), records.map((r) => r.hash)],
    );
  }
}
