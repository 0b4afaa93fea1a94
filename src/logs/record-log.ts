import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { createWriteStream, mkdirSync, type ReadStream, type WriteStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import path from 'node:path';
import { and, eq, sql } from 'drizzle-orm';
import { FerryError } from '../domain/errors.ts';
import { type RecordLogType, recordLogTypes } from '../domain/executions.ts';
import type { Db, Store } from '../store/database.ts';
import { recordLogFiles } from '../store/schema.ts';

export type RecordLogFile = typeof recordLogFiles.$inferSelect;

/** Signed download links stay valid this long unless told otherwise. */
export const recordLogUrlLifetimeMs = 60 * 60 * 1000;

/** `<dataDir>/logs/<executionId>`: the record log files of one execution. */
export const recordLogDir = (dataDir: string, executionId: string) => path.join(dataDir, 'logs', executionId);

/** `<dataDir>/exports`: log archives built by `buildLogArchive`. */
export const exportsDir = (dataDir: string) => path.join(dataDir, 'exports');

const safeNameChars = /[^A-Za-z0-9._-]/g;
const maxSafeNameLength = 100;

/**
 * The file name of one record log: `<schema or "execution">-<type>.jsonl`. A schema id that is not
 * already a plain file-safe name (or that would collide with "execution") is sanitized and gets a
 * `~<hash>` suffix, so that two schemas never share a file; the database row keeps the original id.
 */
export function recordLogFilename(schemaId: string | null | undefined, type: RecordLogType): string {
  if (!recordLogTypes.includes(type)) {
    throw new FerryError('validation_failed', `unknown record log type ${type}`, { field: 'type' });
  }
  if (schemaId === null || schemaId === undefined) return `execution-${type}.jsonl`;
  const plain = schemaId.replace(safeNameChars, '_');
  const clean =
    plain === schemaId && schemaId !== 'execution' && !schemaId.startsWith('.') && plain.length > 0;
  const stem =
    clean && plain.length <= maxSafeNameLength
      ? plain
      : `${plain.replace(/^\.+/, '').slice(0, 80)}~${createHash('sha256').update(schemaId).digest('hex').slice(0, 10)}`;
  return `${stem}-${type}.jsonl`;
}

export interface RecordLogWriter {
  readonly filename: string;
  /** Records written so far. */
  readonly records: number;
  /** Bytes written so far (UTF-8, newlines included). */
  readonly bytes: number;
  /**
   * Appends one record as a JSON line. Returns a promise when the write buffer is full: callers that
   * can wait should `await` it (backpressure); others may ignore it and the stream catches up.
   */
  write(record: object): Promise<void> | undefined;
  /** `write` for a record already serialized as one line of JSON (no newline). */
  writeJson(json: string): Promise<void> | undefined;
  /** `writeJson` for records already printed as JSON lines, as bytes (UTF-8, each line ending in a newline). */
  writeLines(lines: { bytes: Buffer; count: number }): Promise<void> | undefined;
  /**
   * Flushes and closes the file, then records it in `record_log_files` (upsert). A log with no
   * records leaves no file and no row (and removes those of an earlier log of the same name).
   * Returns the row, or null for an empty log. Idempotent.
   */
  close(): Promise<RecordLogFile | null>;
}

/** Characters of lines a record log gathers before writing them. */
const PIECE_CHARACTERS = 64 * 1024;

/**
 * Opens the record log of one type for an execution (and table). Opening a log that already
 * exists replaces it: a retried table attempt rewrites its errors. The file is created on the
 * first record. One writer per file at a time.
 */
export async function openRecordLog(
  store: Store,
  dataDir: string,
  target: { executionId: string; schemaId?: string | null | undefined; type: RecordLogType },
): Promise<RecordLogWriter> {
  assertExecutionId(target.executionId);
  const filename = recordLogFilename(target.schemaId, target.type);
  const directory = recordLogDir(dataDir, target.executionId);
  const file = path.join(directory, filename);
  let stream: WriteStream | undefined;
  let failure: Error | undefined;
  let records = 0;
  let bytes = 0;
  /** Lines not yet handed to the stream: written in pieces, as one write per line cost more than the line. */
  let pending = '';
  let closing: Promise<RecordLogFile | null> | undefined;

  const openStream = (): WriteStream => {
    mkdirSync(directory, { recursive: true });
    const created = createWriteStream(file, { flags: 'w', highWaterMark: 64 * 1024 });
    created.on('error', (error) => {
      failure ??= error;
    });
    return created;
  };

  async function finish(): Promise<RecordLogFile | null> {
    if (pending) await flush();
    if (stream) {
      const current = stream;
      await new Promise<void>((resolve, reject) => {
        if (current.closed) return resolve();
        current.once('close', () => (failure ? reject(failure) : resolve()));
        current.end();
      });
    }
    if (failure) throw failure;
    const where = and(
      eq(recordLogFiles.executionId, target.executionId),
      eq(recordLogFiles.filename, filename),
    );
    if (records === 0) {
      await rm(file, { force: true });
      await store.db.delete(recordLogFiles).where(where);
      return null;
    }
    const values = {
      executionId: target.executionId,
      schemaId: target.schemaId ?? null,
      type: target.type,
      filename,
      records,
      bytes,
    };
    const [row] = await store.db
      .insert(recordLogFiles)
      .values(values)
      .onConflictDoUpdate({
        target: [recordLogFiles.executionId, recordLogFiles.filename],
        set: { schemaId: values.schemaId, type: values.type, records, bytes, createdAt: sql`now()` },
      })
      .returning();
    return row!;
  }

  /** Refuses records once the log is closing or its file failed. */
  function checkWritable(): void {
    if (closing) throw new Error(`record log ${filename} is closed`);
    if (failure) throw failure;
  }

  function writeJson(json: string): Promise<void> | undefined {
    checkWritable();
    pending += `${json}\n`;
    records += 1;
    return pending.length < PIECE_CHARACTERS ? undefined : flush();
  }

  function writeLines(lines: { bytes: Buffer; count: number }): Promise<void> | undefined {
    checkWritable();
    if (lines.count === 0) return undefined;
    records += lines.count;
    // The stream keeps the order: the pending lines, then these (whose write tells when to wait).
    if (pending) flush(false);
    return write(lines.bytes);
  }

  /** Hands the pending lines to the stream. */
  function flush(wait = true): Promise<void> | undefined {
    const piece = pending;
    pending = '';
    return write(piece, wait);
  }

  /** Writes to the file; when its buffer is full and `wait`, a promise that resolves on drain. */
  function write(piece: string | Buffer, wait = true): Promise<void> | undefined {
    stream ??= openStream();
    bytes += Buffer.byteLength(piece);
    if (stream.write(piece) || !wait) return undefined;
    const waiting = stream;
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        waiting.off('drain', done);
        waiting.off('error', done);
        waiting.off('close', done);
        failure ? reject(failure) : resolve();
      };
      waiting.on('drain', done);
      waiting.on('error', done);
      waiting.on('close', done);
    });
  }

  return {
    filename,
    get records() {
      return records;
    },
    get bytes() {
      return bytes + Buffer.byteLength(pending);
    },
    write: (record) => writeJson(JSON.stringify(record, jsonReplacer)),
    writeJson,
    writeLines,
    close() {
      closing ??= finish();
      return closing;
    },
  };
}

/** JSON for rows from any connector: bigints as strings, bytes as base64. */
function jsonReplacer(this: unknown, key: string, value: unknown): unknown {
  const raw = (this as Record<string, unknown>)[key];
  if (typeof value === 'bigint') return value.toString();
  if (raw instanceof Uint8Array)
    return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64');
  return value;
}

/** The record log files of an execution, grouped by type (records, errors, warnings, …), then by schema. */
export async function listRecordLogs(db: Db, executionId: string): Promise<RecordLogFile[]> {
  const rows = await db.select().from(recordLogFiles).where(eq(recordLogFiles.executionId, executionId));
  const typeRank = (type: string) => recordLogTypes.indexOf(type as RecordLogType);
  return rows.sort(
    (a, b) =>
      typeRank(a.type) - typeRank(b.type) ||
      Number(a.schemaId !== null) - Number(b.schemaId !== null) ||
      (a.schemaId ?? '').localeCompare(b.schemaId ?? '') ||
      a.filename.localeCompare(b.filename),
  );
}

/** The same files keyed by type, for faces that present them that way. */
export function groupRecordLogsByType(
  files: readonly RecordLogFile[],
): Partial<Record<RecordLogType, RecordLogFile[]>> {
  const groups: Partial<Record<RecordLogType, RecordLogFile[]>> = {};
  for (const file of files) {
    const group = groups[file.type] ?? [];
    group.push(file);
    groups[file.type] = group;
  }
  return groups;
}

// ---- signed, expiring download URLs ----------------------------------------------------------

const signature = (secret: string, executionId: string, filename: string, expires: number) =>
  createHmac('sha256', secret).update(`ferry-log\n${executionId}\n${filename}\n${expires}`).digest();

/**
 * `/api/logs/<executionId>/<filename>?expires=<unix seconds>&signature=<hex hmac-sha256>`, valid
 * until `expiresAt` (one hour from now by default).
 */
export function signRecordLogUrl(
  secret: string,
  link: { executionId: string; filename: string; expiresAt?: Date | undefined },
): string {
  const expiresAt = link.expiresAt ?? new Date(Date.now() + recordLogUrlLifetimeMs);
  const expires = Math.floor(expiresAt.getTime() / 1000);
  const mac = signature(secret, link.executionId, link.filename, expires).toString('hex');
  return `/api/logs/${encodeURIComponent(link.executionId)}/${encodeURIComponent(link.filename)}?expires=${expires}&signature=${mac}`;
}

/** True when the link was signed with `secret` and has not expired; false otherwise, never throws. */
export function verifyRecordLogSignature(
  secret: string,
  link: {
    executionId: string;
    filename: string;
    expires: string | number | undefined;
    signature: string | undefined;
    now?: Date | undefined;
  },
): boolean {
  const expires =
    typeof link.expires === 'number'
      ? link.expires
      : typeof link.expires === 'string' && /^\d{1,12}$/.test(link.expires)
        ? Number(link.expires)
        : Number.NaN;
  if (!Number.isSafeInteger(expires)) return false;
  if (expires * 1000 <= (link.now ?? new Date()).getTime()) return false;
  if (typeof link.signature !== 'string' || !/^[0-9a-f]{64}$/i.test(link.signature)) return false;
  const expected = signature(secret, link.executionId, link.filename, expires);
  return timingSafeEqual(expected, Buffer.from(link.signature, 'hex'));
}

// ---- downloads --------------------------------------------------------------------------------

const executionIdPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const filenamePattern = /^[A-Za-z0-9_~][A-Za-z0-9._~-]{0,254}$/;

function assertExecutionId(executionId: string): void {
  if (!executionIdPattern.test(executionId)) {
    throw new FerryError('bad_request', 'not an execution id', { field: 'executionId' });
  }
}

/** Archives of `buildLogArchive` are named `<executionId>-<timestamp>.tar.gz` and live in exports/. */
export const isArchiveFilename = (executionId: string, filename: string) =>
  filename.startsWith(`${executionId}-`) && /-\d{8}T\d{9}Z(-\d+)?\.tar\.gz$/.test(filename);

/**
 * Opens a record log file (or a log archive) of an execution for download. Names that could
 * leave the execution's directory are refused (400); a missing file is a 404.
 */
export async function openRecordLogFile(
  dataDir: string,
  executionId: string,
  filename: string,
): Promise<ReadStream> {
  assertExecutionId(executionId);
  if (!filenamePattern.test(filename)) {
    throw new FerryError('bad_request', 'not a log file name', { field: 'filename' });
  }
  const directory = path.resolve(
    isArchiveFilename(executionId, filename) ? exportsDir(dataDir) : recordLogDir(dataDir, executionId),
  );
  const file = path.resolve(directory, filename);
  if (path.dirname(file) !== directory) {
    throw new FerryError('bad_request', 'not a log file name', { field: 'filename' });
  }
  const missing = () => new FerryError('not_found', `log file ${filename} not found`);
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw missing();
    throw error;
  }
  try {
    if (!(await handle.stat()).isFile()) throw missing();
  } catch (error) {
    await handle.close();
    throw error;
  }
  return handle.createReadStream();
}
