import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { driverMessage, queryFailed } from '../../../connectors/errors.ts';
import { CopyTextEncoder } from '../../../connectors/postgres/copy-text.ts';
import type { PostgresConfig } from '../../../connectors/postgres/index.ts';
import { CopyTextLines, CopyTextParser } from '../../../connectors/postgres/reader.ts';
import { connect } from '../../../connectors/postgres/writer.ts';
import { quoteIdent } from '../../../connectors/values.ts';
import { FerryError } from '../../../domain/errors.ts';
import { contentHash, type PlannedRecord, recordJson } from '../plan.ts';
import { type RecordHash, recordHashOfType, recordHashSql, recordHashType } from '../record-hash.ts';
import {
  type ChunkedModelTarget,
  type ChunkOutcome,
  type Comparison,
  chunkRows,
  chunkSize,
  type ModelChunk,
  type Prune,
  type TargetRequest,
} from '../targets.ts';
import { isRecordError } from './batch.ts';
import { CopyRecordJson, JsonLinesBuffer } from './copy-record-json.ts';

/**
 * Change detection state lives in the target database, next to the records, in the target table's
 * schema, one table per sync (`identity`, the record's hash: see `record-hash.ts`): what a chunk wrote
 * and the hashes of it commit in one statement, and a whole-model run rebuilds it in bulk.
 */
const stateTableOf = (syncId: string) =>
  `_ferry_model_state_${syncId.replace(/[^0-9A-Za-z]/g, '').toLowerCase()}`;
/** Where state lived before it had a table per sync: `(sync_id, identity, hash)` with md5 as text. */
const SHARED_STATE_TABLE = '_ferry_model_state';
/**
 * The chunk being sent: `seq` numbers records in model order (given, or drawn for COPY text chunks),
 * `cid` is the identity (empty: the record has none), `sh` the hash when the source computed it.
 */
const CHUNK = 'ferry_model_chunk';
/** Staged records (by `seq`) whose identity the target had before a whole-model write. */
const EXISTING = 'ferry_model_existing';
/** Identities sent so far in this run (duplicates, and what replace mode keeps). */
const SEEN = 'ferry_model_seen';
/** Every identity of the model with the hash of its record, when the source computed them (`compare`). */
const HASHES = 'ferry_model_hashes';

// Temporary tables are session-local and skip the WAL; the buffers keep a run's seen identities in memory.
// JIT would compile each chunk's statement for longer than it runs.
const SESSION_SQL =
  "set timezone = 'UTC'; set datestyle = 'ISO, MDY'; set statement_timeout = 0; set temp_buffers = '64MB'; set work_mem = '64MB'; set jit = off";

/**
 * A whole-model write commits at least this often: after this many records, or after the batch that
 * reading took this long (ms) to stage, so a long run keeps what it did.
 */
const wholeRows = 2_000_000;
const wholeMs = 5_000;

/** Bytes of JSON lines per piece of a whole-model write's outcome (the record logs write them as they come). */
const outcomePieceBytes = 256 * 1024;

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
    const stateName = stateTableOf(request.syncId);
    const state = `${quoteIdent(schema)}.${quoteIdent(stateName)}`;
    const shared = await sharedStateOf(client, schema, request.syncId);
    // A new state hashes with `hash64`; one moved from the shared table keeps its md5s. Its pages keep
    // 10% free, so a changed hash is rewritten on its own page (a HOT update) and the key's index is
    // left alone: 10k changed hashes in a 1M-row state took 0.26-0.30 s instead of 0.46-0.53 s.
    await client.query(
      `create table if not exists ${state} (identity text collate "C" not null,
         constraint ${quoteIdent(`${stateName}_pkey`)} primary key (identity),
         hash ${recordHashType[shared ? 'md5' : 'hash64']} not null) with (fillfactor = 90)`,
    );
    const hash = await stateHash(client, state);
    await byteOrderedState(client, state);
    if (shared && hash === 'md5') await adoptSharedState(client, shared, state, request.syncId);
    const hashType = recordHashType[hash];
    await client.query(
      `create temp table ${CHUNK} (seq bigint generated by default as identity, cid text collate "C" not null, sh ${hashType}, ${request.columns.map((_, j) => `c${j} text`).join(', ')});
       create temp table ${SEEN} (cid text collate "C" primary key, seq bigint not null);
       create temp table ${HASHES} (cid text collate "C" not null, h ${hashType} not null);
       create temp table ${EXISTING} (seq bigint not null)`,
    );
    return new PostgresModelTarget(client, config, request, {
      table: `${quoteIdent(schema)}.${quoteIdent(table)}`,
      state,
      stateKey: quoteIdent(`${stateName}_pkey`),
      types,
      upsertable: keyed?.unique === true,
      hash,
    });
  } catch (error) {
    await client.end().catch(() => {});
    throw error instanceof FerryError ? error : queryFailed(error, [config.password]);
  }
}

/**
 * Identities compare byte by byte (collation "C"): building and probing the state's key then skips
 * the locale's string comparison (a 1M-identity key builds in about half the time). A state table
 * created before keeps its rows and gets the collation (its key is rebuilt once).
 */
async function byteOrderedState(client: pg.Client, state: string) {
  const { rows } = await client.query<{ c: boolean }>(
    `select a.attcollation = 'pg_catalog."C"'::regcollation as c from pg_catalog.pg_attribute a
     where a.attrelid = $1::regclass and a.attname = 'identity'`,
    [state],
  );
  if (rows[0]?.c === false)
    await client.query(`alter table ${state} alter column identity type text collate "C"`);
}

/** How the state table hashes records, by the type of its `hash` column. */
async function stateHash(client: pg.Client, state: string): Promise<RecordHash> {
  const { rows } = await client.query<{ type: string }>(
    `select format_type(a.atttypid, a.atttypmod) as type from pg_catalog.pg_attribute a
     where a.attrelid = $1::regclass and a.attname = 'hash'`,
    [state],
  );
  return recordHashOfType(rows[0]!.type);
}

/** The table all syncs shared before, when it still holds state of this sync. */
async function sharedStateOf(client: pg.Client, schema: string, syncId: string): Promise<string | undefined> {
  const shared = `${quoteIdent(schema)}.${SHARED_STATE_TABLE}`;
  const [found] = (
    await client.query<{ present: boolean }>('select to_regclass($1) is not null as present', [shared])
  ).rows;
  if (!found?.present) return undefined;
  const { rowCount } = await client.query(`select 1 from ${shared} where sync_id = $1 limit 1`, [syncId]);
  return rowCount ? shared : undefined;
}

/** Moves a sync's state out of the table all syncs shared before (once; the hashes are the same md5). */
async function adoptSharedState(client: pg.Client, shared: string, state: string, syncId: string) {
  await client.query('begin');
  try {
    await client.query(
      `with moved as (delete from ${shared} where sync_id = $1 returning identity, hash)
       insert into ${state} (identity, hash) select identity, hash::uuid from moved on conflict (identity) do nothing`,
      [syncId],
    );
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  }
}

/** SQL pieces over the chunk's rows (`b`), built once per run. */
interface Statements {
  /**
   * `b`: the records `kept` with their hash `h` and the state's `old` one: every record, or those whose
   * hash differs. Without `lookup` (the sync has no state yet) `old` is null without a lookup.
   */
  batch(everything: boolean, lookup: boolean): string;
  /** The mode's statement(s) as CTEs after `b`, and `out`: each record's action and values. */
  write: string;
  /** Which of `b` the state remembers: every record sent, or (update mode) the ones written. */
  remembered: string;
  /** A record's values, `c0`... of `alias` (Ferry prints their JSON). */
  values(alias: string): string;
  /** None in update mode, whose state remembers only what it wrote and cannot prove identities unique. */
  whole: WholeStatements | undefined;
}

/** The statements of a whole-model write (see `PostgresModelTarget.#writeWhole`). */
interface WholeStatements {
  /** Fill `EXISTING` with the staged records whose identity the target already has. */
  before: string[];
  /** Remember the hashes of what the run sends. */
  state: string;
  /** The mode's writes, in order. */
  write: string[];
  /** Each record that acted (or has no identity, `n`): its action and its values. */
  outcomes: string;
}

class PostgresModelTarget implements ChunkedModelTarget {
  readonly kind = 'chunked' as const;
  readonly recordHash: RecordHash;
  readonly #client: pg.Client;
  readonly #config: PostgresConfig;
  readonly #request: TargetRequest;
  readonly #table: string;
  readonly #state: string;
  readonly #stateKey: string;
  readonly #types: string[];
  readonly #sql: Statements;
  /** Prints records chunks' COPY text, reusing its buffer (a failed COPY fails the run, and the encoder with it). */
  readonly #encoder = new CopyTextEncoder();
  /** A record's JSON for the record logs, from its values in target column order. */
  readonly #json: (values: (string | null)[]) => string;
  /** The same JSON printed from rows of COPY text. */
  readonly #copyJson: CopyRecordJson;
  #seq = 0;
  /** The sync has state rows to compare with (none before its first run, or after a snapshot's delete). */
  #stateKnown = true;
  /** The run started without state (its first, or a snapshot): the state holds just what it sent. */
  #fresh = false;
  #inTransaction = false;
  #snapshotDeleted = 0;

  constructor(
    client: pg.Client,
    config: PostgresConfig,
    request: TargetRequest,
    names: TargetNames & { stateKey: string },
  ) {
    this.#client = client;
    this.#config = config;
    this.#request = request;
    this.#table = names.table;
    this.#state = names.state;
    this.#stateKey = names.stateKey;
    this.#types = names.types;
    this.recordHash = names.hash;
    this.#sql = statements(request, names);
    this.#json = recordJson(request.columns);
    this.#copyJson = new CopyRecordJson(request.columns);
    // Cancel reaches the running statement: the connection goes, and the open transaction with it.
    request.signal.addEventListener('abort', () => client.connection.stream.destroy(), { once: true });
  }

  #fail(error: unknown): Error {
    if (this.#request.signal.aborted) return this.#request.signal.reason as Error;
    if (error instanceof FerryError) return error;
    return queryFailed(error, [this.#config.password]);
  }

  async forget(): Promise<void> {
    try {
      await this.#client.query(`truncate ${this.#state}`);
    } catch (error) {
      throw this.#fail(error);
    }
  }

  async begin(count = true): Promise<number> {
    try {
      const { rows } = await this.#client.query<{ n: number }>(
        `select count(*)::int as n from ${count ? this.#state : `(select from ${this.#state} limit 1) s`}`,
      );
      if (this.#request.mode === 'snapshot') {
        await this.#client.query('begin');
        this.#inTransaction = true;
        this.#snapshotDeleted = (await this.#client.query(`delete from ${this.#table}`)).rowCount ?? 0;
        await this.#client.query(`delete from ${this.#state}`);
      }
      this.#stateKnown = rows[0]!.n > 0 && this.#request.mode !== 'snapshot';
      this.#fresh = !this.#stateKnown;
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
        `select x.cid from ${HASHES} x left join ${this.#state} st on st.identity = x.cid
         where x.cid = '' or st.hash is distinct from x.h`,
        1,
      );
      return { rows: Number(load.rowCount), differing: rows.map(([cid]) => cid!) };
    } catch (error) {
      throw this.#fail(error);
    }
  }

  async send(chunk: ModelChunk, everything: boolean): Promise<ChunkOutcome> {
    const outcome = emptyOutcome(chunkRows(chunk));
    if (outcome.rows === 0) return outcome;
    try {
      await this.#client.query(`truncate ${CHUNK}`);
      const first = this.#seq + 1;
      await this.#stage(chunk);
      await this.#apply(first, this.#seq, everything, outcome);
      return outcome;
    } catch (error) {
      throw this.#fail(error);
    }
  }

  async *sendWhole(chunks: AsyncIterable<ModelChunk>): AsyncGenerator<ChunkOutcome> {
    const iterator = chunks[Symbol.asyncIterator]();
    try {
      for (let more = true; more; ) {
        const first = this.#seq + 1;
        const started = Date.now();
        try {
          await this.#client.query(`truncate ${CHUNK}`);
          while (this.#seq - first + 1 < wholeRows && Date.now() - started < wholeMs) {
            const next = await iterator.next();
            if (next.done) {
              more = false;
              break;
            }
            await this.#stage(next.value);
          }
        } catch (error) {
          throw this.#fail(error);
        }
        const staged = this.#seq - first + 1;
        if (staged === 0) return;
        if (await this.#writeWhole(first === 1)) yield* this.#wholeOutcomes(staged);
        else yield* this.#sendStaged(first);
      }
    } finally {
      await iterator.return?.();
    }
  }

  /**
   * The staged records from `first` in chunk statements, which find repeated identities (also those
   * sent by earlier batches of the run, in the state) and records the target refuses.
   */
  async *#sendStaged(first: number): AsyncGenerator<ChunkOutcome> {
    const client = this.#client;
    try {
      // Each chunk statement picks its range out of the whole batch.
      await client.query(`create index ${CHUNK}_seq on ${CHUNK} (seq); analyze ${CHUNK}`);
      for (let lo = first; lo <= this.#seq; lo += chunkSize) {
        const hi = Math.min(lo + chunkSize - 1, this.#seq);
        const outcome = emptyOutcome(hi - lo + 1);
        await this.#apply(lo, hi, true, outcome);
        yield outcome;
      }
      await client.query(`drop index ${CHUNK}_seq`);
    } catch (error) {
      throw this.#fail(error);
    }
  }

  /** Appends a chunk to the staged rows, numbered on from the last. */
  async #stage(chunk: ModelChunk): Promise<void> {
    const first = this.#seq + 1;
    this.#seq += chunkRows(chunk);
    if ('records' in chunk) {
      const text = this.#encoder.encode(chunkTableRows(chunk.records, first));
      await pipeline(Readable.from([text]), this.#client.query(copyFrom(`copy ${CHUNK} from stdin`)));
      return;
    }
    await this.#client.query(`select setval(pg_get_serial_sequence('${CHUNK}', 'seq'), $1, false)`, [first]);
    const columns = this.#request.columns.map((_, j) => `c${j}`).join(', ');
    await pipeline(
      Readable.from(chunk.copy),
      this.#client.query(copyFrom(`copy ${CHUNK} (cid, sh, ${columns}) from stdin`)),
    );
  }

  /**
   * Writes everything staged with one statement per step, in a transaction (a savepoint in a snapshot)
   * left open for `#wholeOutcomes`. The target table is locked against other writers so that what was
   * there before (`EXISTING`) still holds when the rows are written. The state's key proves each
   * identity comes once in the run (into an empty state, `emptyState`, the key is built after the
   * rows, which costs less). False, rolled back, when a repeated identity or a record's values stop it.
   */
  async #writeWhole(emptyState: boolean): Promise<boolean> {
    const client = this.#client;
    const { whole } = this.#sql;
    if (!whole) return false;
    try {
      await this.#openBatch();
      await client.query(`lock table ${this.#table} in share row exclusive mode`);
      await client.query(`truncate ${EXISTING}`);
      for (const statement of whole.before) await client.query(statement);
      await client.query(`analyze ${EXISTING}`);
      if (emptyState) await client.query(`alter table ${this.#state} drop constraint ${this.#stateKey}`);
      // Into a key, identities in its order.
      await client.query(emptyState ? whole.state : `${whole.state} order by b.cid`);
      if (emptyState)
        await client.query(
          `alter table ${this.#state} add constraint ${this.#stateKey} primary key (identity)`,
        );
      for (const statement of whole.write) await client.query(statement);
      return true;
    } catch (error) {
      await this.#rollBackBatch();
      if (isRecordError(error)) return false;
      throw this.#fail(error);
    }
  }

  /** Streams what `#writeWhole` did, record by record, then commits it; the last outcome counts the records. */
  async *#wholeOutcomes(staged: number): AsyncGenerator<ChunkOutcome> {
    const client = this.#client;
    let committed = false;
    try {
      // Called after `#writeWhole` wrote, which it does only with whole-model statements.
      const stream = client.query(copyTo(`copy (${this.#sql.whole!.outcomes}) to stdout`));
      const lines = new CopyTextLines();
      const printed = { i: new JsonLinesBuffer(), u: new JsonLinesBuffer(), d: new JsonLinesBuffer() };
      const noIdentity: string[] = [];
      let noIdentities = 0;
      const piece = (rows: number, sent: number): ChunkOutcome => ({
        ...emptyOutcome(rows),
        sent,
        noIdentity: noIdentity.splice(0),
        printed: { inserts: printed.i.take(), updates: printed.u.take(), deletes: printed.d.take() },
      });
      // Each row: the action, then the values, whose JSON lines Ferry prints from the COPY text
      // (PostgreSQL's `json_object` cost the database a second per million records).
      const take = (row: Buffer) => {
        const action = String.fromCharCode(row[0]!);
        if (action === 'n') {
          noIdentity.push(this.#copyJson.string(row, 2));
          noIdentities++;
        } else this.#copyJson.print(row, 2, printed[action as keyof typeof printed]);
      };
      for await (const data of stream) {
        lines.push(data as Buffer, take);
        if (printed.i.length + printed.u.length + printed.d.length >= outcomePieceBytes) yield piece(0, 0);
      }
      lines.end();
      await this.#commitBatch();
      committed = true;
      yield piece(staged, staged - noIdentities);
    } catch (error) {
      throw this.#fail(error);
    } finally {
      if (!committed) await this.#rollBackBatch();
    }
  }

  /**
   * Writes a `seq` range in one statement; when the target refuses it for a record's values, splits the
   * range in halves down to the single record, which is rejected with the target's reason.
   */
  async #apply(lo: number, hi: number, everything: boolean, outcome: ChunkOutcome): Promise<void> {
    try {
      const width = 2 + this.#request.columns.length;
      const rows = await this.#atomic(() => this.#copyOut(this.#writeSql(lo, hi, everything), width));
      for (const row of rows) {
        const action = row[0]!;
        addRecord(outcome, action, action === '-' ? '' : this.#json(row.slice(2)), row[1]!);
        if (action !== 'w' && action !== 'n') outcome.sent++;
      }
    } catch (error) {
      if (!isRecordError(error)) throw error;
      if (lo === hi) {
        // Still seen by the run: replace mode keeps the row it has for this identity.
        const { rows } = await this.#client.query<(string | null)[]>({
          text: `with seen as (insert into ${SEEN} (cid, seq) select cid, seq from ${CHUNK} where seq = $1 on conflict (cid) do nothing)
           select ${this.#sql.values('c')} from ${CHUNK} c where c.seq = $1`,
          values: [lo],
          rowMode: 'array',
        });
        if (rows[0]) {
          outcome.sent++;
          outcome.rejected.push({ json: this.#json(rows[0]), reason: driverMessage(error) });
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
   * come out as duplicates, `w`; records without identity as `n`), the kept ones that changed are
   * written, and their hashes remembered.
   */
  #writeSql(lo: number, hi: number, everything: boolean): string {
    const { batch, write, remembered, values } = this.#sql;
    const columns = values('');
    // A run that started without state has in it just what it sent, also in whole-model batches.
    const sentBefore = this.#fresh
      ? ` and not exists (select 1 from ${this.#state} st where st.identity = ${CHUNK}.cid)`
      : '';
    return `with kept as (insert into ${SEEN} (cid, seq) select cid, seq from ${CHUNK}
        where seq between ${lo} and ${hi} and cid <> ''${sentBefore} order by seq on conflict (cid) do nothing returning seq),
      b as materialized (${batch(everything, this.#stateKnown)}),
      ${write},
      remembered as (insert into ${this.#state} (identity, hash) select b.cid, b.h
        from b where b.old is null and ${remembered}),
      rehashed as (update ${this.#state} st set hash = b.h from b
        where b.old <> b.h and ${remembered} and st.identity = b.cid),
      duplicate as (select c.seq, case when c.cid = '' then 'n' else 'w' end as action, c.cid, ${values('c')} from ${CHUNK} c
        where c.seq between ${lo} and ${hi} and c.seq not in (select seq from kept))
      select action, cid, ${columns} from (select seq, action, null as cid, ${columns} from out
        union all select seq, action, cid, ${columns} from duplicate) o order by seq`;
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
        if (!this.#fresh)
          await this.#client.query(
            `delete from ${this.#state} st where not exists (select 1 from ${identities} s where s.cid = st.identity)`,
          );
        const rows = await this.#copyOut(
          `delete from ${this.#table} as t where not exists (select 1 from ${this.#state} s
             where cast(s.identity as ${this.#types[identityIndex]}) = t.${id})
           returning ${columns.map((c) => `t.${quoteIdent(c)}::text`).join(', ')}`,
          columns.length,
        );
        for (const row of rows) await onDeleted(this.#json(row));
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
    await this.#openBatch();
    try {
      const result = await work();
      await this.#commitBatch();
      return result;
    } catch (error) {
      await this.#rollBackBatch();
      throw error;
    }
  }

  /** Opens a batch's transaction, or its savepoint inside the snapshot's transaction. */
  async #openBatch(): Promise<void> {
    await this.#client.query(this.#inTransaction ? 'savepoint ferry_batch' : 'begin');
  }

  async #commitBatch(): Promise<void> {
    await this.#client.query(this.#inTransaction ? 'release savepoint ferry_batch' : 'commit');
  }

  /** Never throws: it runs on the way out of a failure, which is what the caller reports. */
  async #rollBackBatch(): Promise<void> {
    await this.#client
      .query(this.#inTransaction ? 'rollback to savepoint ferry_batch' : 'rollback')
      .catch(() => {});
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

const emptyOutcome = (rows: number): ChunkOutcome => ({
  rows,
  sent: 0,
  inserted: [],
  updated: [],
  deleted: [],
  rejected: [],
  duplicates: [],
  noIdentity: [],
});

/**
 * Adds a record to an outcome by the action a statement printed for it: `i`, `u`, `d` (written), `w`
 * (a duplicate of an identity sent before), `n` (no identity), `-` (sent, nothing to do).
 */
function addRecord(outcome: ChunkOutcome, action: string, json: string, identity?: string): void {
  if (action === 'i') outcome.inserted.push(json);
  else if (action === 'u') outcome.updated.push(json);
  else if (action === 'd') outcome.deleted.push(json);
  else if (action === 'w') outcome.duplicates.push({ identity: identity!, json });
  else if (action === 'n') outcome.noIdentity.push(json);
}

/** The rows of a chunk's table: seq, identity, no hash (the target computes it), then the target values. */
const chunkTableRows = (records: PlannedRecord[], first: number) =>
  records.map(({ key, values }, i) => [String(first + i), key ?? contentHash(values), null, ...values]);

/** The target table, its state, and how the state hashes records. */
interface TargetNames {
  table: string;
  state: string;
  types: string[];
  upsertable: boolean;
  hash: RecordHash;
}

function statements(
  request: TargetRequest,
  { table, state, types, upsertable, hash }: TargetNames,
): Statements {
  const { columns, identityIndex, mode } = request;
  const values = (alias: string) => columns.map((_, j) => `${alias ? `${alias}.` : ''}c${j}`).join(', ');
  // The hash the source computed (`hashModelRows`), or the same of the staged text.
  const rowHash = (alias: string) =>
    `coalesce(${alias}.sh, ${recordHashSql(
      hash,
      columns.map((_, j) => `${alias}.c${j}`),
    )})`;
  // A lookup per record on the state's primary key: the plan needs no statistics on the chunk.
  const batch = (everything: boolean, lookup: boolean) => {
    const old = lookup
      ? `(select st.hash from ${state} st where st.identity = c.cid)`
      : `null::${recordHashType[hash]}`;
    // `offset 0` keeps the lookup and the hash computed once per record.
    return `select * from (select c.*, ${rowHash('c')} as h, ${old} as old from ${CHUNK} c
      where c.seq in (select seq from kept) offset 0) c${everything ? '' : ' where c.old is distinct from c.h'}`;
  };

  const list = columns.map(quoteIdent).join(', ');
  const casts = columns.map((_, j) => `cast(b.c${j} as ${types[j]})`).join(', ');
  // Append and snapshot rows go in in model order; other modes need not sort.
  const ordered = mode === 'append' || mode === 'snapshot';
  const insert = (where = '') =>
    `insert into ${table} as t (${list}) select ${casts} from b ${where}${ordered ? ' order by b.seq' : ''}`;
  const id = identityIndex === -1 ? '' : quoteIdent(columns[identityIndex]!);
  const key = identityIndex === -1 ? '' : `cast(b.c${identityIndex} as ${types[identityIndex]})`;
  const assign = columns.map((c, j) => `${quoteIdent(c)} = cast(b.c${j} as ${types[j]})`).join(', ');
  const excluded = columns.map((c) => `${quoteIdent(c)} = excluded.${quoteIdent(c)}`).join(', ');
  const update = `update ${table} as t set ${assign} from b where t.${id} = ${key}`;
  // Every `b` row comes out once: its action (`-`: sent, nothing to do) and its values.
  const out = (action: string, join = '') =>
    `out as (select b.seq, ${action} as action, ${values('b')} from b ${join})`;
  const byKey = (cte: string) => `left join (select distinct id from ${cte}) ${cte} on ${cte}.id = ${key}`;
  const bySeq = (cte: string) => `left join (select distinct seq from ${cte}) ${cte} on ${cte}.seq = b.seq`;
  const all = 'true';

  // The whole staged model at once (`b`: every record with an identity; each identity once, which
  // the state's key proves). The action of a record follows from whether the target had its
  // identity before the write (`EXISTING`), and is `-` when nothing is done. `in` over `EXISTING`
  // hashes it once (an anti join planned from a near-empty `EXISTING` loops over it per record).
  const known = `b.seq in (select seq from ${EXISTING})`;
  const whole = (ifNew: string, ifKnown: string, writes: string[]): WholeStatements => ({
    before:
      ifNew === ifKnown
        ? []
        : [
            `insert into ${EXISTING} (seq) select b.seq from ${CHUNK} b
             where b.cid <> '' and exists (select 1 from ${table} t where t.${id} = ${key})`,
          ],
    state: `insert into ${state} (identity, hash) select b.cid, ${rowHash('b')} from ${CHUNK} b where b.cid <> ''`,
    write: writes.map((w) => `with b as not materialized (select * from ${CHUNK} where cid <> '') ${w}`),
    outcomes: `select o.action, ${values('o')} from (select b.*, case when b.cid = '' then 'n'
        when ${known} then '${ifKnown}' else '${ifNew}' end as action from ${CHUNK} b) o where o.action <> '-'`,
  });
  const insertNew = insert(`where b.seq not in (select seq from ${EXISTING})`);

  switch (mode) {
    case 'append':
    case 'snapshot':
      return {
        batch,
        values,
        remembered: all,
        write: `w as (${insert()}), ${out(`'i'`)}`,
        whole: whole('i', 'i', [insert()]),
      };
    case 'create': {
      const created = out(`case when w.id is null then '-' else 'i' end`, byKey('w'));
      return {
        batch,
        values,
        remembered: all,
        write: upsertable
          ? `w as (${insert()} on conflict (${id}) do nothing returning t.${id} as id), ${created}`
          : `w as (${insert(`where not exists (select 1 from ${table} e where e.${id} = ${key})`)} returning t.${id} as id), ${created}`,
        whole: whole('i', '-', [insertNew]),
      };
    }
    case 'update':
      return {
        batch,
        values,
        remembered: 'b.seq in (select seq from w)',
        write: `w as (${update} returning b.seq), ${out(`case when w.seq is null then '-' else 'u' end`, bySeq('w'))}`,
        whole: undefined,
      };
    case 'updateOrCreate':
    case 'replace':
      return {
        batch,
        values,
        remembered: all,
        write: upsertable
          ? `w as (${insert()} on conflict (${id}) do update set ${excluded} returning t.${id} as id, (t.xmax = 0) as inserted),
             ${out(`case when w.inserted then 'i' else 'u' end`, `left join (select id, bool_or(inserted) as inserted from w group by id) w on w.id = ${key}`)}`
          : `u as (${update} returning b.seq),
             w as (${insert('where b.seq not in (select seq from u)')}),
             ${out(`case when u.seq is null then 'i' else 'u' end`, bySeq('u'))}`,
        whole: whole('i', 'u', [update, insertNew]),
      };
    case 'remove':
      return {
        batch,
        values,
        remembered: all,
        write: `w as (delete from ${table} as t using b where t.${id} = ${key} returning b.seq),
          ${out(`case when w.seq is null then '-' else 'd' end`, bySeq('w'))}`,
        whole: whole('-', 'd', [`delete from ${table} as t using b where t.${id} = ${key}`]),
      };
  }
}
