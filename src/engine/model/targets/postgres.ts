import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { driverMessage, queryFailed } from '../../../connectors/errors.ts';
import { copyField } from '../../../connectors/postgres/copy-text.ts';
import type { PostgresConfig } from '../../../connectors/postgres/index.ts';
import { CopyTextParser } from '../../../connectors/postgres/reader.ts';
import { connect } from '../../../connectors/postgres/writer.ts';
import { quoteIdent, quoteLiteral } from '../../../connectors/values.ts';
import { FerryError } from '../../../domain/errors.ts';
import { contentHash, type PlannedRecord } from '../plan.ts';
import type { ChunkedModelTarget, ChunkOutcome, Comparison, Prune, TargetRequest } from '../targets.ts';
import { isRecordError } from './batch.ts';

/**
 * Change detection state lives in the target database, next to the records, in the target table's
 * schema: what a chunk wrote and the hashes of it commit in one statement.
 */
const STATE_TABLE = '_ferry_model_state';
/** The chunk being sent: `seq` numbers records in model order, `cid` is the identity. */
const CHUNK = 'ferry_model_chunk';
/** Identities sent so far in this run (duplicates, and what replace mode keeps). */
const SEEN = 'ferry_model_seen';
/** Every identity of the model with the hash of its record, when the source computed them (`compare`). */
const HASHES = 'ferry_model_hashes';

// Temporary tables are session-local and skip the WAL; the buffers keep a run's seen identities in memory.
// JIT would compile each chunk's statement for longer than it runs.
const SESSION_SQL =
  "set timezone = 'UTC'; set datestyle = 'ISO, MDY'; set statement_timeout = 0; set temp_buffers = '64MB'; set work_mem = '64MB'; set jit = off";

/** Rows per write to the COPY stream that stages a chunk. */
const copyBlockRows = 1_000;

/** `public.users` → [public, users]; a name without a schema is in `public`. */
function splitObject(object: string): [string, string] {
  const dot = object.indexOf('.');
  return dot === -1 ? ['public', object] : [object.slice(0, dot), object.slice(dot + 1)];
}

export async function openPostgresTarget(
  config: PostgresConfig,
  request: TargetRequest,
): Promise<ChunkedModelTarget> {
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
    await client.query(
      `create temp table ${CHUNK} (seq bigint not null, cid text not null, ${request.columns.map((_, j) => `c${j} text`).join(', ')});
       create temp table ${SEEN} (cid text primary key, seq bigint not null);
       create temp table ${HASHES} (cid text not null, h text not null)`,
    );
    return new PostgresModelTarget(client, config, request, {
      table: `${quoteIdent(schema)}.${quoteIdent(table)}`,
      state,
      types,
      upsertable: keyed?.unique === true,
    });
  } catch (error) {
    await client.end().catch(() => {});
    throw error instanceof FerryError ? error : queryFailed(error, [config.password]);
  }
}

/** SQL pieces over the chunk's rows (`b`), built once per run. */
interface Statements {
  /**
   * `b`: the records `kept` with their hash `h` and the state's `old` one: every record, or those whose
   * hash differs. Without `lookup` (the sync has no state yet) `old` is null without a lookup.
   */
  batch(everything: boolean, lookup: boolean): string;
  /** The mode's statement(s) as CTEs after `b`, and the `select` of each record's action and JSON. */
  write: string;
  /** Which of `b` the state remembers: every record sent, or (update mode) the ones written. */
  remembered: string;
  json(alias: string): string;
}

class PostgresModelTarget implements ChunkedModelTarget {
  readonly kind = 'chunked' as const;
  readonly #client: pg.Client;
  readonly #config: PostgresConfig;
  readonly #request: TargetRequest;
  readonly #table: string;
  readonly #state: string;
  readonly #types: string[];
  readonly #sql: Statements;
  #seq = 0;
  /** The sync has state rows to compare with (none before its first run, or after a snapshot's delete). */
  #stateKnown = true;
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
    this.#sql = statements(request, names);
    // Cancel reaches the running statement: the connection goes, and the open transaction with it.
    request.signal.addEventListener('abort', () => client.connection.stream.destroy(), { once: true });
  }

  #fail(error: unknown): Error {
    if (this.#request.signal.aborted) return this.#request.signal.reason as Error;
    if (error instanceof FerryError) return error;
    return queryFailed(error, [this.#config.password]);
  }

  #syncId(): string {
    return quoteLiteral(this.#request.syncId);
  }

  async begin(): Promise<number> {
    try {
      const { rows } = await this.#client.query<{ n: number }>(
        `select count(*)::int as n from ${this.#state} where sync_id = $1`,
        [this.#request.syncId],
      );
      if (this.#request.mode === 'snapshot') {
        await this.#client.query('begin');
        this.#inTransaction = true;
        this.#snapshotDeleted = (await this.#client.query(`delete from ${this.#table}`)).rowCount ?? 0;
        await this.#client.query(`delete from ${this.#state} where sync_id = $1`, [this.#request.syncId]);
      }
      this.#stateKnown = rows[0]!.n > 0 && this.#request.mode !== 'snapshot';
      return rows[0]!.n;
    } catch (error) {
      throw this.#fail(error);
    }
  }

  async compare(hashes: Readable): Promise<Comparison> {
    try {
      await this.#client.query(`truncate ${HASHES}`);
      const load = this.#client.query(copyFrom(`copy ${HASHES} from stdin`));
      await pipeline(hashes, load);
      await this.#client.query(`analyze ${HASHES}`);
      const rows = await this.#copyOut(
        `select x.cid from ${HASHES} x
           left join ${this.#state} st on st.sync_id = ${this.#syncId()} and st.identity = x.cid
         where x.cid = '' or st.hash is distinct from x.h`,
        1,
      );
      const differing = [...new Set(rows.map(([cid]) => cid!))];
      return { rows: Number(load.rowCount), differing };
    } catch (error) {
      throw this.#fail(error);
    }
  }

  async send(records: PlannedRecord[], everything: boolean): Promise<ChunkOutcome> {
    const outcome: ChunkOutcome = {
      sent: 0,
      inserted: [],
      updated: [],
      deleted: [],
      rejected: [],
      duplicates: [],
    };
    if (records.length === 0) return outcome;
    const first = this.#seq + 1;
    this.#seq += records.length;
    try {
      await this.#client.query(`truncate ${CHUNK}`);
      await pipeline(
        Readable.from(copyLines(records, first)),
        this.#client.query(copyFrom(`copy ${CHUNK} from stdin`)),
      );
      await this.#apply(first, this.#seq, everything, outcome);
      return outcome;
    } catch (error) {
      throw this.#fail(error);
    }
  }

  /**
   * Writes a `seq` range in one statement; when the target refuses it for a record's values, splits the
   * range in halves down to the single record, which is rejected with the target's reason.
   */
  async #apply(lo: number, hi: number, everything: boolean, outcome: ChunkOutcome): Promise<void> {
    try {
      const rows = await this.#atomic(() => this.#copyOut(this.#writeSql(lo, hi, everything), 3));
      for (const [action, json, identity] of rows) {
        if (action === 'w') {
          outcome.duplicates.push({ identity: identity!, json: json! });
          continue;
        }
        outcome.sent++;
        if (action === 'i') outcome.inserted.push(json!);
        else if (action === 'u') outcome.updated.push(json!);
        else if (action === 'd') outcome.deleted.push(json!);
      }
    } catch (error) {
      if (!isRecordError(error)) throw error;
      if (lo === hi) {
        // Still seen by the run: replace mode keeps the row it has for this identity.
        const { rows } = await this.#client.query<{ json: string }>(
          `with seen as (insert into ${SEEN} (cid, seq) select cid, seq from ${CHUNK} where seq = $1 on conflict (cid) do nothing)
           select ${this.#sql.json('c')} as json from ${CHUNK} c where c.seq = $1`,
          [lo],
        );
        if (rows[0]) {
          outcome.sent++;
          outcome.rejected.push({ json: rows[0].json, reason: driverMessage(error) });
        }
        return;
      }
      const middle = Math.floor((lo + hi) / 2);
      await this.#apply(lo, middle, everything, outcome);
      await this.#apply(middle + 1, hi, everything, outcome);
    }
  }

  /**
   * One statement over a `seq` range: the first record of each identity in the run is kept (later ones
   * come out as duplicates, `w`), the kept ones that changed are written, and their hashes remembered.
   */
  #writeSql(lo: number, hi: number, everything: boolean): string {
    const { batch, write, remembered, json } = this.#sql;
    return `with kept as (insert into ${SEEN} (cid, seq) select cid, seq from ${CHUNK}
        where seq between ${lo} and ${hi} order by seq on conflict (cid) do nothing returning seq),
      b as materialized (${batch(everything, this.#stateKnown)}),
      ${write},
      remembered as (insert into ${this.#state} (sync_id, identity, hash) select ${this.#syncId()}, b.cid, b.h
        from b where b.old is null and ${remembered}),
      rehashed as (update ${this.#state} st set hash = b.h from b
        where b.old <> b.h and ${remembered} and st.sync_id = ${this.#syncId()} and st.identity = b.cid),
      duplicate as (select c.seq, 'w' as action, ${json('c')} as json, c.cid from ${CHUNK} c
        where c.seq between ${lo} and ${hi} and c.seq not in (select seq from kept))
      select action, json, cid from (select seq, action, json, null as cid from out
        union all select seq, action, json, cid from duplicate) o order by seq`;
  }

  async finish(prune: Prune, onDeleted: (json: string) => Promise<void> | undefined): Promise<number> {
    try {
      if (this.#request.mode === 'snapshot') {
        await this.#client.query('commit');
        this.#inTransaction = false;
        return this.#snapshotDeleted;
      }
      if (this.#request.mode !== 'replace' || prune === 'none') return 0;
      const identities = prune === 'sent' ? SEEN : HASHES;
      const { identityIndex, columns } = this.#request;
      const id = quoteIdent(columns[identityIndex]!);
      return await this.#atomic(async () => {
        await this.#client.query(
          `delete from ${this.#state} st where st.sync_id = $1
             and not exists (select 1 from ${identities} s where s.cid = st.identity)`,
          [this.#request.syncId],
        );
        const textOf = columns.map((c) => `t.${quoteIdent(c)}::text`);
        const rows = await this.#copyOut(
          `with gone as (delete from ${this.#table} as t where not exists (select 1 from ${this.#state} s
             where s.sync_id = ${this.#syncId()} and cast(s.identity as ${this.#types[identityIndex]}) = t.${id})
             returning ${columnsJson(columns, textOf)} as json)
           select json from gone`,
          1,
        );
        for (const [json] of rows) await onDeleted(json!);
        return rows.length;
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

  /** The rows of a query, streamed as COPY text (a data-modifying `with` included). */
  async #copyOut(query: string, width: number): Promise<(string | null)[][]> {
    const stream = this.#client.query(copyTo(`copy (${query}) to stdout`));
    const parser = new CopyTextParser(width);
    for await (const chunk of stream) parser.push(chunk as Buffer);
    parser.end();
    return parser.batches.flat();
  }
}

/** COPY text lines of a chunk: seq, identity, then the target values. */
function* copyLines(records: PlannedRecord[], first: number): Generator<string> {
  let block = '';
  for (let i = 0; i < records.length; i++) {
    const { key, values } = records[i]!;
    block += `${first + i}\t${copyField(key ?? contentHash(values))}`;
    for (const value of values) block += `\t${copyField(value)}`;
    block += '\n';
    if ((i + 1) % copyBlockRows === 0) {
      yield block;
      block = '';
    }
  }
  if (block) yield block;
}

/** A JSON object of the columns' text values, in column order (record log lines). */
function columnsJson(columns: string[], values: string[]): string {
  return `json_object(array[${columns.map(quoteLiteral).join(', ')}]::text[], array[${values.join(', ')}]::text[])::text`;
}

function statements(
  request: TargetRequest,
  { table, state, types, upsertable }: { table: string; state: string; types: string[]; upsertable: boolean },
): Statements {
  const { columns, identityIndex, mode, syncId } = request;
  const json = (alias: string) =>
    columnsJson(
      columns,
      columns.map((_, j) => `${alias}.c${j}`),
    );
  const rowHash = `md5(row(${columns.map((_, j) => `c.c${j}`).join(', ')})::text)`;
  // A lookup per record on the state's primary key: the plan needs no statistics on the chunk.
  const batch = (everything: boolean, lookup: boolean) => {
    const old = lookup
      ? `(select st.hash from ${state} st where st.sync_id = ${quoteLiteral(syncId)} and st.identity = c.cid)`
      : 'null::text';
    // `offset 0` keeps the lookup and the hash computed once per record.
    return `select * from (select c.*, ${rowHash} as h, ${old} as old from ${CHUNK} c
      where c.seq in (select seq from kept) offset 0) c${everything ? '' : ' where c.old is distinct from c.h'}`;
  };

  const list = columns.map(quoteIdent).join(', ');
  const casts = columns.map((_, j) => `cast(b.c${j} as ${types[j]})`).join(', ');
  // Rows go in in model order (append mode keeps the model's order).
  const insert = (where = '') =>
    `insert into ${table} as t (${list}) select ${casts} from b ${where} order by b.seq`;
  const id = identityIndex === -1 ? '' : quoteIdent(columns[identityIndex]!);
  const key = identityIndex === -1 ? '' : `cast(b.c${identityIndex} as ${types[identityIndex]})`;
  const assign = columns.map((c, j) => `${quoteIdent(c)} = cast(b.c${j} as ${types[j]})`).join(', ');
  const excluded = columns.map((c) => `${quoteIdent(c)} = excluded.${quoteIdent(c)}`).join(', ');
  const update = `update ${table} as t set ${assign} from b where t.${id} = ${key}`;
  // Every `b` row comes out once: its action (`-`: sent, nothing to do) and, when it acted, its JSON.
  const out = (action: string, join = '') =>
    `out as (select b.seq, ${action} as action, case when ${action} = '-' then null else ${json('b')} end as json from b ${join})`;
  const byKey = (cte: string) => `left join (select distinct id from ${cte}) ${cte} on ${cte}.id = ${key}`;
  const bySeq = (cte: string) => `left join (select distinct seq from ${cte}) ${cte} on ${cte}.seq = b.seq`;
  const all = 'true';

  switch (mode) {
    case 'append':
    case 'snapshot':
      return { batch, json, remembered: all, write: `w as (${insert()}), ${out(`'i'`)}` };
    case 'create': {
      const created = out(`case when w.id is null then '-' else 'i' end`, byKey('w'));
      return {
        batch,
        json,
        remembered: all,
        write: upsertable
          ? `w as (${insert()} on conflict (${id}) do nothing returning t.${id} as id), ${created}`
          : `w as (${insert(`where not exists (select 1 from ${table} e where e.${id} = ${key})`)} returning t.${id} as id), ${created}`,
      };
    }
    case 'update':
      return {
        batch,
        json,
        remembered: 'b.seq in (select seq from w)',
        write: `w as (${update} returning b.seq), ${out(`case when w.seq is null then '-' else 'u' end`, bySeq('w'))}`,
      };
    case 'updateOrCreate':
    case 'replace':
      return {
        batch,
        json,
        remembered: all,
        write: upsertable
          ? `w as (${insert()} on conflict (${id}) do update set ${excluded} returning t.${id} as id, (t.xmax = 0) as inserted),
             ${out(`case when w.inserted then 'i' else 'u' end`, `left join (select id, bool_or(inserted) as inserted from w group by id) w on w.id = ${key}`)}`
          : `u as (${update} returning b.seq),
             w as (${insert('where b.seq not in (select seq from u)')}),
             ${out(`case when u.seq is null then 'i' else 'u' end`, bySeq('u'))}`,
      };
    case 'remove':
      return {
        batch,
        json,
        remembered: all,
        write: `w as (delete from ${table} as t using b where t.${id} = ${key} returning b.seq),
          ${out(`case when w.seq is null then '-' else 'd' end`, bySeq('w'))}`,
      };
  }
}
