import { eq } from 'drizzle-orm';
import type { RecordLogWriter } from '../../logs/record-log.ts';
import type { Core } from '../../services/context.ts';
import { type ModelRow, type ModelSyncRow, modelExecutionDetails } from '../../store/schema.ts';
import { copyChunks } from './copy-chunks.ts';
import { DeliveredState } from './delivered-state.ts';
import {
  contentHash,
  hashed,
  type MappedRecord,
  type PlannedRecord,
  recordJson,
  type SyncPlan,
} from './plan.ts';
import { RepeatedIdentities } from './repeated-identities.ts';
import { type Counts, countRejected, openLogs, saveCounts } from './run-counts.ts';
import {
  copyModelRecords,
  hashModelRows,
  type ModelConfiguration,
  modelSubset,
  type RecordSpec,
  readModel,
} from './source.ts';
import type { ApplyResult } from './targets/batch.ts';
import {
  type ChunkedModelTarget,
  type ChunkOutcome,
  type Comparison,
  chunkSize,
  type ModelChunk,
  type ModelTarget,
  openModelTarget,
  type StreamedModelTarget,
} from './targets.ts';
import type { TrackedRead } from './tracking.ts';

/**
 * Model rows read, and changed records sent to a streamed target per atomic batch. Small enough that
 * a record is read, compared, sent and logged within one scavenge of V8's young generation (16 MB
 * semi-spaces; a record costs some 3-4 KB of short-lived allocations on the way to an HTTP target):
 * records alive across two scavenges are promoted to the old generation, which then fills with dead
 * ones until a full collection. PG→HTTP at 1M rows, batches of 5,000: peak RSS 343 MB.
 */
const streamedBatchRows = 1_000;

type Level = 'info' | 'warn' | 'error';
type Logs = Record<'inserts' | 'updates' | 'deletes' | 'errors' | 'warnings', RecordLogWriter>;

export interface SyncRun {
  executionId: string;
  sync: ModelSyncRow;
  model: ModelRow;
  plan: SyncPlan;
  resync: boolean;
  /** Only these identities, sent whether they changed or not. */
  only: Set<string> | undefined;
  /** An earlier attempt of this run forgot the delivered hashes (an append resync, see forgetForAppend). */
  stateForgotten: boolean;
  /** The rows that can have changed, by the model's tracking columns. */
  tracked: TrackedRead | undefined;
  signal: AbortSignal;
  /** Once aborted, the run stops after the batch in flight; a snapshot, one transaction, goes on. */
  drain: AbortSignal;
  counts: Counts;
  log: (message: string, level?: Level) => Promise<void>;
}

/** What a run read, for its closing console line. */
interface Tally {
  read: number;
  identities: number;
  /** Identities the target knew before the run; not counted by runs that read by tracking columns. */
  known?: number;
}

const noIdentityWarning = 'the identity field is empty; the record was not sent';
/** A warnings log line for a record already in JSON. */
const warningLine = (json: string, warning: string) =>
  `{"record":${json},"warning":${JSON.stringify(warning)}}`;
/** An errors log line for a record already in JSON. */
const errorLine = (json: string, reason: string) => `{"record":${json},"error":${JSON.stringify(reason)}}`;
const duplicateWarning = (identity: string) =>
  `duplicate identity ${identity}: only its first record was sent`;

/**
 * Sends the target the model's new and changed records (all of them on a resync or a run over chosen
 * identities) and, in replace mode, deletes what the model no longer has. False when it stopped early
 * for a worker shutdown (see `SyncRun.drain`).
 */
export async function syncRun(core: Core, r: SyncRun): Promise<boolean> {
  const { sync, plan, counts } = r;
  const logs = await openLogs(core, r.executionId, ['inserts', 'updates', 'deletes', 'errors', 'warnings']);
  const target = await openModelTarget(core, sync.targetConnectionId, {
    syncId: sync.id,
    object: sync.targetObject,
    mode: sync.mode,
    columns: plan.columns,
    identityIndex: plan.identityIndex,
    signal: r.signal,
  }).catch(async (error) => {
    await closeLogs(logs);
    throw error;
  });
  const tally: Tally = { read: 0, identities: 0 };
  try {
    const run = await forgetForAppend(core, r, target);
    const finished =
      target.kind === 'chunked'
        ? await chunkedRun(core, run, target, logs, tally)
        : await streamedRun(core, run, target, logs, tally);
    if (!finished) return false;
    await r.log(
      `read ${tally.read} row(s), ${tally.identities} identit${tally.identities === 1 ? 'y' : 'ies'}${tally.known === undefined ? '' : ` (${tally.known} known before)`}; sent ${counts.total}: ` +
        `${counts.inserted} inserted, ${counts.updated} updated, ${counts.deleted} deleted, ${counts.errors} rejected, ${counts.warnings} warning(s)`,
      counts.errors > 0 ? 'warn' : 'info',
    );
    return true;
  } finally {
    await target.close().catch(() => {});
    await closeLogs(logs);
  }
}

async function closeLogs(logs: Logs): Promise<void> {
  await Promise.all(Object.values(logs).map((w) => w.close()));
}

/**
 * Append writes a row per record sent, so an append run that sends everything again (a resync) must
 * not send twice what an earlier attempt of the same run delivered before it was killed or handed
 * back. It forgets the delivered hashes once, at the first attempt that gets here (marked in the
 * store after the target forgot), and then runs as any run: every record is new to the target's
 * state, and a later attempt skips those the state holds again. Other modes overwrite by identity,
 * and replace needs the old state to know what to delete: they send everything as asked.
 */
async function forgetForAppend(core: Core, r: SyncRun, target: ModelTarget): Promise<SyncRun> {
  if (!r.resync || r.sync.mode !== 'append' || r.only !== undefined) return r;
  if (!r.stateForgotten) {
    await target.forget();
    await core.store.db
      .update(modelExecutionDetails)
      .set({ stateForgotten: true })
      .where(eq(modelExecutionDetails.executionId, r.executionId));
  } else {
    await r.log(
      'an earlier attempt of this run forgot the delivered records: what it sent is not sent again',
    );
  }
  return { ...r, resync: false };
}

/** A worker shutting down stops a run between batches; a snapshot, one transaction, runs to its end. */
const draining = (r: SyncRun) => r.drain.aborted && r.sync.mode !== 'snapshot';

/** Every `everything` run sends unchanged records too. */
const sendsEverything = (r: SyncRun) => r.resync || r.only !== undefined || r.sync.mode === 'snapshot';

/**
 * The model's records to send, batch by batch in model order: filtered, overridden and mapped; a
 * record without identity is a warning; a run over chosen identities keeps just those.
 */
async function* plannedRecords(
  core: Core,
  r: SyncRun,
  logs: Logs,
  tally: Tally,
  configuration: ModelConfiguration = r.model.configuration,
  batchRows?: number,
): AsyncGenerator<PlannedRecord[]> {
  const { connectionId, fields } = r.model;
  const json = recordJson(r.plan.columns);
  for await (const rows of readModel(core, connectionId, configuration, fields, r.signal, batchRows)) {
    tally.read += rows.length;
    const records: PlannedRecord[] = [];
    for (const row of rows) {
      const mapped = r.plan.map(row);
      if (mapped.kind === 'filtered') continue;
      if (mapped.kind === 'no_identity') {
        r.counts.warnings++;
        await logs.warnings.writeJson(warningLine(json(mapped.values), noIdentityWarning));
        continue;
      }
      if (r.only && !r.only.has(mapped.record.key ?? contentHash(mapped.record.values))) continue;
      records.push(mapped.record);
    }
    if (records.length > 0) yield records;
  }
}

/**
 * What a PostgreSQL source can compute of each record itself: its identity, target values and the
 * target's hash, when the sync has an identity and only maps fields (no filters or overrides, which
 * Ferry evaluates).
 */
function recordSpec({ plan }: SyncRun, target: ChunkedModelTarget): RecordSpec | undefined {
  if (plan.transforms || plan.identityField === null) return undefined;
  return { identityField: plan.identityField, values: plan.sources, hash: target.recordHash };
}

/**
 * The model in chunks of `chunkSize` records (fewer when the worker drains). From a PostgreSQL source,
 * for a sync that only maps fields, the source prints the records as COPY text and Ferry passes the
 * lines on unparsed (`subset`: just those rows); otherwise records are read and mapped in Ferry.
 */
async function* modelChunks(
  core: Core,
  r: SyncRun,
  target: ChunkedModelTarget,
  logs: Logs,
  tally: Tally,
  subset: ModelConfiguration | null | undefined,
): AsyncGenerator<ModelChunk> {
  if (subset === null) return; // nothing differs: nothing to read
  const configuration = subset ?? r.model.configuration;
  const spec = recordSpec(r, target);
  const copy =
    spec && r.only === undefined
      ? await copyModelRecords(core, r.model.connectionId, configuration, spec, r.signal)
      : undefined;
  if (copy) {
    for await (const chunk of copyChunks(copy, chunkSize, () => draining(r))) {
      tally.read += chunk.rows;
      yield chunk;
    }
    return;
  }
  let records: PlannedRecord[] = [];
  for await (const batch of plannedRecords(core, r, logs, tally, configuration)) {
    for (const record of batch) records.push(record);
    if (records.length >= chunkSize || draining(r)) {
      yield { records };
      records = [];
    }
  }
  if (records.length > 0) yield { records };
}

/**
 * A chunked target stages the model and finds what changed itself: chunk by chunk, or (a run from
 * no state) in large batches of the whole model.
 */
async function chunkedRun(
  core: Core,
  r: SyncRun,
  target: ChunkedModelTarget,
  logs: Logs,
  tally: Tally,
): Promise<boolean> {
  const { counts } = r;
  const everything = sendsEverything(r);
  const counted = r.tracked?.changed === undefined;
  const known = await target.begin(counted);
  if (counted) tally.known = known;
  // From nothing (a first run, a snapshot) the state is built as the records go: no chunk compares.
  // Update mode remembers only the identities it wrote, so only chunks can tell its duplicates.
  const whole =
    r.only === undefined && r.sync.mode !== 'update' && (known === 0 || r.sync.mode === 'snapshot');
  const tracked = await changedByTracking(r, known);
  const compared =
    whole || everything || tracked ? undefined : await compareInDatabases(core, r, target, known);
  const chunks = modelChunks(core, r, target, logs, tally, tracked ?? compared?.subset);
  const outcomes = whole ? target.sendWhole(chunks) : sendEach(target, chunks, everything);
  for await (const outcome of outcomes) {
    await recordOutcome(core, r, outcome, logs);
    tally.identities += outcome.rows - outcome.duplicates.length - outcome.noIdentity.length;
    // Stops only after a commit (an outcome of records still in flight accounts for none).
    if (outcome.rows > 0 && draining(r)) return false;
  }
  if (compared) {
    // Every row left out has an identity of its own; each duplicate or empty one was read and warned of.
    tally.read = compared.comparison.rows;
    tally.identities = compared.comparison.rows - counts.warnings;
  }
  // A run over some identities or rows says nothing about the others: replace prunes only after full runs.
  const prune = r.only !== undefined || tracked ? 'none' : compared ? 'compared' : 'sent';
  counts.deleted += await target.finish(prune, (json) => logs.deletes.writeJson(json));
  return true;
}

/** The rows to read by the model's tracking columns, once the target holds state to compare them with. */
async function changedByTracking(r: SyncRun, known: number): Promise<ModelConfiguration | undefined> {
  const changed = known > 0 ? r.tracked?.changed : undefined;
  if (changed) await r.log(`tracking columns: reading the rows with ${r.tracked!.description}`);
  return changed;
}

async function* sendEach(
  target: ChunkedModelTarget,
  chunks: AsyncIterable<ModelChunk>,
  everything: boolean,
): AsyncGenerator<ChunkOutcome> {
  for await (const chunk of chunks) yield await target.send(chunk, everything);
}

/** Counts and logs what a chunk did, and saves the counts so the execution shows progress. */
async function recordOutcome(core: Core, r: SyncRun, outcome: ChunkOutcome, logs: Logs): Promise<void> {
  const { counts } = r;
  const { printed } = outcome;
  counts.total += outcome.sent;
  counts.inserted += outcome.inserted.length + (printed?.inserts.count ?? 0);
  counts.updated += outcome.updated.length + (printed?.updates.count ?? 0);
  counts.deleted += outcome.deleted.length + (printed?.deletes.count ?? 0);
  for (const json of outcome.inserted) await logs.inserts.writeJson(json);
  for (const json of outcome.updated) await logs.updates.writeJson(json);
  for (const json of outcome.deleted) await logs.deletes.writeJson(json);
  if (printed) {
    await logs.inserts.writeLines(printed.inserts);
    await logs.updates.writeLines(printed.updates);
    await logs.deletes.writeLines(printed.deletes);
  }
  for (const { json, reason } of outcome.rejected) {
    countRejected(counts, reason);
    await logs.errors.writeJson(errorLine(json, reason));
  }
  for (const { identity, json } of outcome.duplicates) {
    counts.warnings++;
    await logs.warnings.writeJson(warningLine(json, duplicateWarning(identity)));
  }
  for (const json of outcome.noIdentity) {
    counts.warnings++;
    await logs.warnings.writeJson(warningLine(json, noIdentityWarning));
  }
  // Saved when records committed (not for each piece of a whole-model write in flight).
  if (outcome.rows > 0) await saveCounts(core, r.executionId, counts);
}

/** Beyond this share of the model differing, reading all of it costs no more than picking the rows. */
const subsetShare = 0.25;

/**
 * Change detection in the databases, for a PostgreSQL source and a sync that only maps fields: the
 * source hashes every row (identity and target values) and streams just those pairs to the target,
 * which compares them with its state; the run then reads only the rows that differ. The records read
 * still go through `send`, which compares again before writing: this step only saves reading and
 * staging what did not change. Undefined when it cannot be done, or when so much differs that the run
 * reads the whole model. `expected`: the identities in the state, about as many as the model's.
 */
async function compareInDatabases(
  core: Core,
  r: SyncRun,
  target: ChunkedModelTarget,
  expected: number,
): Promise<{ comparison: Comparison; subset: ModelConfiguration | null } | undefined> {
  const { model } = r;
  const spec = recordSpec(r, target);
  if (!spec) return undefined;
  const hashes = await hashModelRows(core, model.connectionId, model.configuration, spec, r.signal);
  if (!hashes) return undefined;
  let comparison: Comparison;
  try {
    // Repeated identities are found on the way: each is read in full and warned of, as in a full read.
    const tracked = new RepeatedIdentities(expected);
    hashes.once('error', (error) => tracked.destroy(error));
    comparison = await target.compare(hashes.pipe(tracked));
    comparison.differing = [...new Set([...comparison.differing, ...tracked.repeated])];
  } catch (error) {
    hashes.destroy(); // a comparison that failed early leaves the source's query unread
    if (r.signal.aborted) throw error;
    const message = error instanceof Error ? error.message : String(error);
    await r.log(
      `could not compare the model by hash in the databases (${message}); reading all of it`,
      'warn',
    );
    return undefined;
  }
  const { rows, differing } = comparison;
  await r.log(
    `compared ${rows} row(s) by hash in the source and the target: ${differing.length} identit${differing.length === 1 ? 'y' : 'ies'} to send`,
  );
  if (differing.length > rows * subsetShare) return undefined;
  const subset =
    differing.length === 0
      ? null
      : modelSubset(model.configuration, model.fields, spec.identityField, differing);
  return { comparison, subset };
}

/** A streamed target is compared in Ferry against the hashes it last received, one entry per identity. */
async function streamedRun(
  core: Core,
  r: SyncRun,
  target: StreamedModelTarget,
  logs: Logs,
  tally: Tally,
): Promise<boolean> {
  const { sync, counts } = r;
  // Hash last delivered per identity, and the identities seen in this run; known ones left unseen at
  // the end are gone from the model.
  const state = new DeliveredState();
  await target.loadState((identity, hash) => state.load(identity, hash));
  tally.known = state.known;
  await target.begin();
  const everything = sendsEverything(r);
  const tracked = await changedByTracking(r, state.known);
  const json = recordJson(r.plan.columns);
  // Whole requests of an HTTP target, when they hold more.
  const applyBatchSize = Math.max(streamedBatchRows, target.batchSize ?? 0);
  let pending: MappedRecord[] = [];
  const flush = async () => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    const result = await target.apply(batch);
    await record(core, r, result, batch.length, logs, json);
  };

  for await (const records of plannedRecords(core, r, logs, tally, tracked, streamedBatchRows)) {
    for (const planned of records) {
      const rec = hashed(planned);
      const sighting = state.see(rec.identity, rec.hash);
      if (sighting === 'duplicate') {
        counts.warnings++;
        await logs.warnings.writeJson(warningLine(json(rec.values), duplicateWarning(rec.identity)));
        continue;
      }
      tally.identities++;
      if (!everything && sighting === 'unchanged') continue;
      pending.push(rec);
      if (pending.length >= applyBatchSize) await flush();
    }
    if (draining(r)) {
      await flush();
      return false;
    }
  }
  await flush();
  const unseen = sync.mode === 'replace' && !r.only ? state.unseen() : undefined;
  counts.deleted += await target.finish(unseen);
  return true;
}

/** Counts and logs what a batch did, and saves the counts so the execution shows progress. */
async function record(
  core: Core,
  r: SyncRun,
  result: ApplyResult,
  sent: number,
  logs: Logs,
  json: (values: MappedRecord['values']) => string,
) {
  const { counts } = r;
  counts.total += sent;
  counts.inserted += result.inserted.length;
  counts.updated += result.updated.length;
  counts.deleted += result.deleted.length;
  for (const rec of result.inserted) await logs.inserts.writeJson(rec.json ?? json(rec.values));
  for (const rec of result.updated) await logs.updates.writeJson(rec.json ?? json(rec.values));
  for (const rec of result.deleted) await logs.deletes.writeJson(rec.json ?? json(rec.values));
  for (const { record: rec, reason } of result.rejected) {
    countRejected(counts, reason);
    await logs.errors.writeJson(errorLine(rec.json ?? json(rec.values), reason));
  }
  await saveCounts(core, r.executionId, counts);
}
