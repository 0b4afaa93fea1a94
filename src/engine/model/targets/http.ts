import { setTimeout as sleep } from 'node:timers/promises';
import { and, eq, gt, inArray, sql } from 'drizzle-orm';
import type { HttpConfig } from '../../../connectors/http/index.ts';
import { FerryError } from '../../../domain/errors.ts';
import type { Core } from '../../../services/context.ts';
import { type ModelSyncMode, modelSyncState } from '../../../store/schema.ts';
import { type MappedRecord, recordJson } from '../plan.ts';
import type { ModelTargetInfo, StreamedModelTarget, TargetRequest } from '../targets.ts';
import { type ApplyResult, emptyResult, loadStatePages, type RejectedRecord } from './batch.ts';
import { modesOf } from './modes.ts';

export type HttpTargetConfig = HttpConfig;

/** The one object of an HTTP target: the records it receives. */
export const httpObject = 'records';
const httpModes: ModelSyncMode[] = ['create', 'update', 'updateOrCreate', 'append', 'remove'];

/** Attempts per request on 429, 5xx and network errors (the first try plus retries). */
const maxAttempts = 5;
const baseDelayMs = 200;
const maxDelayMs = 10_000;

export function httpTargetInfo(config: HttpTargetConfig): ModelTargetInfo {
  return {
    id: httpObject,
    name: config.url,
    fields: [],
    modes: modesOf(httpModes),
    freeFields: true,
  };
}

/**
 * POSTs `{sync_id, mode, operation, records}` batches of `batch_size` records. The response may name
 * records it refused: `{"errors": [{"index": 3, "message": "..."}]}` (index into `records`); the rest
 * are delivered. Delivered hashes are kept in Ferry's store, so delivery is at least once: a run that
 * dies between a response and that write sends those records again.
 */
export async function openHttpTarget(
  core: Core,
  config: HttpTargetConfig,
  request: TargetRequest,
): Promise<StreamedModelTarget> {
  const db = core.store.db;
  // Names are case-insensitive: `auth_header` and the JSON type replace a `headers` entry of that name,
  // where an object would send both values joined ("Basic x, Bearer y").
  const headers = new Headers(config.headers);
  headers.set('content-type', 'application/json');
  if (config.auth_header) headers.set('authorization', config.auth_header);
  // Create mode sends each identity once, as an insert: never an update of a record it created.
  const operation =
    request.mode === 'remove'
      ? 'delete'
      : request.mode === 'append' || request.mode === 'create'
        ? 'insert'
        : 'upsert';

  // The body is `JSON.stringify({sync_id, mode, operation, records})`, printed without an object per record.
  const bodyStart = `${JSON.stringify({ sync_id: request.syncId, mode: request.mode, operation }).slice(0, -1)},"records":[`;
  const json = recordJson(request.columns);

  /**
   * The request body, as bytes: a string of a whole batch would be one of V8's large objects (over
   * 128 KB), allocated straight in the old generation, where it stays until a full collection.
   */
  function bodyOf(records: MappedRecord[]): Buffer {
    let size = Buffer.byteLength(bodyStart) + records.length + 1; // commas, `]}`
    for (const record of records) {
      record.json ??= json(record.values); // kept for the run's log of what was sent
      size += Buffer.byteLength(record.json);
    }
    const body = Buffer.allocUnsafe(size);
    let at = body.write(bodyStart);
    for (let i = 0; i < records.length; i++) {
      if (i > 0) at = body.writeUInt8(0x2c, at); // ,
      at += body.write(records[i]!.json!, at);
    }
    body.write(']}', at);
    return body;
  }

  async function post(records: MappedRecord[]): Promise<RejectedRecord[]> {
    const body = bodyOf(records);
    for (let attempt = 1; ; attempt++) {
      let response: Response | undefined;
      let failure: string;
      try {
        response = await fetch(config.url, { method: 'POST', headers, body, signal: request.signal });
        const text = await response.text();
        if (response.ok) return rejectedOf(records, text);
        failure = `HTTP ${response.status}: ${text.slice(0, 500)}`;
        // The endpoint or its credentials are wrong: no record would get through.
        if ([401, 403, 404, 405].includes(response.status)) {
          throw new FerryError('connection_failed', `${config.url} refused the request (${failure})`);
        }
        // Any other 4xx is about the records of this batch.
        if (response.status !== 429 && response.status < 500) {
          return records.map((record) => ({ record, reason: failure }));
        }
      } catch (error) {
        if (request.signal.aborted) throw request.signal.reason;
        if (error instanceof FerryError) throw error;
        failure = `request failed: ${(error as Error).message}`;
      }
      if (attempt >= maxAttempts) {
        throw new FerryError(
          'unavailable',
          `${config.url} kept failing after ${attempt} attempts (${failure})`,
        );
      }
      const retryAfter = retryAfterMs(response?.headers.get('retry-after'));
      const delay = retryAfter ?? baseDelayMs * 2 ** (attempt - 1);
      await sleep(Math.min(delay, maxDelayMs), undefined, { signal: request.signal });
    }
  }

  async function saveState(delivered: MappedRecord[]): Promise<void> {
    if (delivered.length === 0) return;
    // One statement with two array parameters: a multi-row `values` costs more to build than to run.
    await db.execute(
      sql`insert into model_sync_state (sync_id, identity, hash)
        select ${request.syncId}::uuid, v.identity, v.hash
        from unnest(${sql.param(delivered.map((r) => r.identity))}::text[], ${sql.param(delivered.map((r) => r.hash))}::text[]) as v(identity, hash)
        on conflict (sync_id, identity) do update set hash = excluded.hash`,
    );
  }

  return {
    kind: 'streamed',
    batchSize: config.batch_size,
    async forget() {
      await db.delete(modelSyncState).where(eq(modelSyncState.syncId, request.syncId));
    },
    async loadState(add) {
      const ofSync = eq(modelSyncState.syncId, request.syncId);
      await loadStatePages(async (after, limit) => {
        const rows = await db
          .select({ identity: modelSyncState.identity, hash: modelSyncState.hash })
          .from(modelSyncState)
          .where(after === undefined ? ofSync : and(ofSync, gt(modelSyncState.identity, after)))
          .orderBy(modelSyncState.identity)
          .limit(limit);
        return rows.map((row) => [row.identity, row.hash]);
      }, add);
    },
    async begin() {},
    async apply(records) {
      const result: ApplyResult = emptyResult();
      if (request.mode === 'create') {
        // Records of identities created before are changed ones: create mode leaves them be, and keeps
        // their hash so that they are not compared again.
        const created = await db
          .select({ identity: modelSyncState.identity })
          .from(modelSyncState)
          .where(
            and(
              eq(modelSyncState.syncId, request.syncId),
              inArray(
                modelSyncState.identity,
                records.map((r) => r.identity),
              ),
            ),
          );
        const known = new Set(created.map((row) => row.identity));
        await saveState(records.filter((r) => known.has(r.identity)));
        records = records.filter((r) => !known.has(r.identity));
      }
      for (let start = 0; start < records.length; start += config.batch_size) {
        const batch = records.slice(start, start + config.batch_size);
        const rejected = await post(batch);
        const refused = new Set(rejected.map((r) => r.record));
        const delivered = batch.filter((r) => !refused.has(r));
        result.rejected.push(...rejected);
        if (request.mode === 'remove') result.deleted.push(...delivered);
        else result.inserted.push(...delivered);
        await saveState(delivered);
      }
      return result;
    },
    // Replace is not an HTTP mode: nothing is deleted at the end of a run.
    async finish() {
      return 0;
    },
    async close() {},
  };
}

/** The wait a `Retry-After` asks for, in seconds or as an HTTP date (RFC 9110); undefined without one. */
export function retryAfterMs(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value?.trim()) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds > 0 ? seconds * 1000 : undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) || at <= now ? undefined : at - now;
}

/**
 * Records the response body says were refused; a body that is not such JSON refuses none. A record
 * named by several entries (one per invalid field, say) is refused once, with their messages joined.
 */
export function rejectedOf(records: MappedRecord[], text: string): RejectedRecord[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return [];
  }
  const errors = (parsed as { errors?: unknown })?.errors;
  if (!Array.isArray(errors)) return [];
  const reasons = new Map<MappedRecord, string[]>();
  for (const entry of errors) {
    const { index, message } = (entry ?? {}) as { index?: unknown; message?: unknown };
    const record = typeof index === 'number' ? records[index] : undefined;
    if (!record) continue;
    const reason = typeof message === 'string' ? message : JSON.stringify(entry);
    const known = reasons.get(record);
    if (!known) reasons.set(record, [reason]);
    else if (!known.includes(reason)) known.push(reason);
  }
  return [...reasons].map(([record, messages]) => ({ record, reason: messages.join('; ') }));
}
