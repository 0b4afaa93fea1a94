import type { Readable } from 'node:stream';
import type { MysqlConfig } from '../../connectors/mysql/type.ts';
import type { PostgresConfig } from '../../connectors/postgres/index.ts';
import { FerryError } from '../../domain/errors.ts';
import { connectionEndpoint, openConnectorById } from '../../services/connections.ts';
import type { Core } from '../../services/context.ts';
import type { ModelSyncMode } from '../../store/schema.ts';
import type { MappedRecord, PlannedRecord } from './plan.ts';
import type { RecordHash } from './record-hash.ts';
import type { ApplyResult } from './targets/batch.ts';
import { type HttpTargetConfig, httpTargetInfo, openHttpTarget } from './targets/http.ts';
import { modesOf } from './targets/modes.ts';
import { openPostgresTarget } from './targets/postgres.ts';

export interface TargetFieldInfo {
  id: string;
  name: string;
  type: string;
  remoteType: string;
  required: boolean;
}

export interface ModelTargetInfo {
  id: string;
  name: string;
  fields: TargetFieldInfo[];
  modes: { mode: ModelSyncMode; requires_identity: boolean }[];
  /** HTTP targets take any field name; database targets only their columns. */
  freeFields: boolean;
}

const databaseModes: ModelSyncMode[] = [
  'create',
  'update',
  'updateOrCreate',
  'replace',
  'append',
  'remove',
  'snapshot',
];

const databaseTypes = new Set(['postgresql', 'mysql']);

async function targetType(core: Core, connectionId: string) {
  const endpoint = await connectionEndpoint(core, connectionId);
  if (!databaseTypes.has(endpoint.type.id) && endpoint.type.id !== 'http') {
    throw new FerryError(
      'validation_failed',
      `a ${endpoint.type.id} connection cannot be a model sync target`,
      {
        field: 'target.connection_id',
      },
    );
  }
  return endpoint;
}

/** The objects (tables, or the HTTP endpoint) a model sync may write to on a connection. */
export async function listTargetObjects(core: Core, connectionId: string) {
  const { type, config } = await targetType(core, connectionId);
  if (type.id === 'http') {
    const info = httpTargetInfo(config as HttpTargetConfig);
    return [{ id: info.id, name: info.name, modes: info.modes }];
  }
  const schemas = await openConnectorById(core, connectionId, (connector) => connector.listSchemas());
  return schemas.map((s) => ({ id: s.id, name: s.id, modes: modesOf(databaseModes) }));
}

/** One target object with its fields; an unknown object is a 422 on `target.object`. */
export async function describeTarget(
  core: Core,
  connectionId: string,
  object: string,
): Promise<ModelTargetInfo> {
  const { type, config } = await targetType(core, connectionId);
  if (type.id === 'http') {
    const info = httpTargetInfo(config as HttpTargetConfig);
    if (object !== info.id) {
      throw new FerryError(
        'validation_failed',
        `target.object: an HTTP target has one object, "${info.id}"`,
        {
          field: 'target.object',
        },
      );
    }
    return info;
  }
  const schema = await openConnectorById(core, connectionId, (connector) => connector.getSchema(object));
  if (!schema) {
    throw new FerryError(
      'validation_failed',
      `target.object: the target connection has no table "${object}"`,
      {
        field: 'target.object',
      },
    );
  }
  return {
    id: schema.id,
    name: schema.id,
    fields: schema.fields.map((f) => ({
      id: f.name,
      name: f.name,
      type: f.type,
      remoteType: f.remoteType,
      required: !f.nullable,
    })),
    modes: modesOf(databaseModes),
    freeFields: false,
  };
}

export interface TargetRequest {
  syncId: string;
  object: string;
  mode: ModelSyncMode;
  columns: string[];
  identityIndex: number;
  signal: AbortSignal;
}

/**
 * A model sync target that compares in Ferry: the run holds the hash last delivered per identity and
 * sends the target what differs. `apply` writes a batch and the content hashes of what it wrote in one
 * atomic step, so a run that dies re-sends only what did not land. MySQL and HTTP targets.
 */
export interface StreamedModelTarget {
  readonly kind: 'streamed';
  /** Records the target takes at once (an HTTP request), when it says: `apply` gets at least as many. */
  readonly batchSize?: number;
  /** Passes `add` the content hash last delivered per identity, each identity once, page by page. */
  loadState(add: (identity: string, hash: string) => void): Promise<void>;
  /**
   * Forgets every hash delivered so far: an append sync that sends every record again (a resync) does
   * it once, then compares as any run does, so an attempt after a kill skips what an earlier one sent.
   */
  forget(): Promise<void>;
  /** Snapshot mode: opens the one transaction in which the target's content is replaced. */
  begin(): Promise<void>;
  apply(records: MappedRecord[]): Promise<ApplyResult>;
  /**
   * Ends the run. `unseen` (replace mode, after a run over the whole model): identities of the state
   * the model no longer has, which are deleted with any row the sync did not write. Returns the rows
   * deleted.
   */
  finish(unseen: string[] | undefined): Promise<number>;
  close(): Promise<void>;
}

export type Prune = 'none' | 'sent' | 'compared';

/** What `ChunkedModelTarget.compare` found. */
export interface Comparison {
  /** Model rows compared. */
  rows: number;
  /** Identities to send: new, changed, or empty (`''`); one repeated in the model may come more than once. */
  differing: string[];
}

/**
 * A chunk of the model: mapped records, or (a PostgreSQL source) COPY text lines
 * `identity<TAB>hash<TAB>value…` as the source printed them, which the target loads without Ferry
 * parsing them.
 */
export type ModelChunk = { records: PlannedRecord[] } | { copy: Buffer[]; rows: number };

export const chunkRows = (chunk: ModelChunk): number =>
  'records' in chunk ? chunk.records.length : chunk.rows;

/** Model records staged in a chunked target per statement (and per commit). */
export const chunkSize = 20_000;

/** JSON lines already printed (each record's JSON and a newline), and how many. */
export interface JsonLines {
  bytes: Buffer;
  count: number;
}

/** What one chunk did in a chunked target; records are JSON lines of their target values. */
export interface ChunkOutcome {
  /** Model records this outcome accounts for: 0 while they are in a write not yet committed. */
  rows: number;
  /** Records sent: new or changed ones, every one on a resync. */
  sent: number;
  inserted: string[];
  updated: string[];
  deleted: string[];
  rejected: { json: string; reason: string }[];
  /** Records whose identity came earlier in the run: not sent. */
  duplicates: { identity: string; json: string }[];
  /** Records with an empty identity (a chunk of COPY text only): not sent. */
  noIdentity: string[];
  /** More records written, printed in bulk (whole-model writes), by the log they go to. */
  printed?: { inserts: JsonLines; updates: JsonLines; deletes: JsonLines };
}

/**
 * A model sync target that compares in its own database: each chunk of the model is staged there,
 * joined with the hashes last delivered, and what changed is written with its hashes in one
 * statement, so a run that dies re-sends only what did not land and Ferry's memory stays flat
 * whatever the model's size. PostgreSQL targets.
 */
export interface ChunkedModelTarget {
  readonly kind: 'chunked';
  /** How the target's state hashes records: a source that computes the hashes uses the same. */
  readonly recordHash: RecordHash;
  /**
   * Opens the run (snapshot mode: the one transaction that replaces the content); returns the
   * identities known. With `count` false it returns 1 when any is known, else 0: a run that reads by
   * tracking columns needs no count of a state of millions (0.1 s at 1M).
   */
  begin(count?: boolean): Promise<number>;
  /**
   * Forgets every hash delivered so far: an append sync that sends every record again (a resync) does
   * it once, then compares as any run does, so an attempt after a kill skips what an earlier one sent.
   */
  forget(): Promise<void>;
  /**
   * Compares every model row's identity and hash (COPY text `identity<TAB>hash`, computed by the source)
   * with the state: the identities whose records are new or changed, or empty. A run that compared
   * sends only those (and the repeated ones, which it finds on the way); replace mode then keeps every
   * identity compared.
   */
  compare(hashes: Readable): Promise<Comparison>;
  /** Stages, compares and writes one chunk; `everything` sends unchanged records too. */
  send(chunk: ModelChunk, everything: boolean): Promise<ChunkOutcome>;
  /**
   * Sends every record of the model (a run that starts without state: a first run, a snapshot),
   * staged in large batches, each written with one statement per step in a transaction:
   * far fewer statements than chunk by chunk. What a batch did comes out in pieces as it is read back;
   * the last piece of a batch, after its commit, counts its records.
   */
  sendWhole(chunks: AsyncIterable<ModelChunk>): AsyncIterable<ChunkOutcome>;
  /**
   * Ends the run. In replace mode, after a run over the whole model, `prune` deletes the identities the
   * model no longer has and any row the sync did not write, each passed to `onDeleted`; the model's
   * identities are those the run sent, or those it compared. Returns the rows deleted (snapshot mode:
   * the rows the snapshot replaced).
   */
  finish(prune: Prune, onDeleted: (json: string) => Promise<void> | undefined): Promise<number>;
  close(): Promise<void>;
}

export type ModelTarget = StreamedModelTarget | ChunkedModelTarget;

export async function openModelTarget(
  core: Core,
  connectionId: string,
  request: TargetRequest,
): Promise<ModelTarget> {
  const { type, config } = await targetType(core, connectionId);
  if (type.id === 'postgresql') return openPostgresTarget(config as PostgresConfig, request);
  // mysql2 loads with the first MySQL target, as with the MySQL connector.
  if (type.id === 'mysql')
    return (await import('./targets/mysql.ts')).openMysqlTarget(config as MysqlConfig, request);
  return openHttpTarget(core, config as HttpTargetConfig, request);
}
