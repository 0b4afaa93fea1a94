import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { and, asc, eq, gt } from 'drizzle-orm';
import tar from 'tar-stream';
import { notFound } from '../domain/errors.ts';
import type { Db, Store } from '../store/database.ts';
import { consoleLogs, executions } from '../store/schema.ts';
import { exportsDir, listRecordLogs, recordLogDir } from './record-log.ts';

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Console lines read per query while writing `console.log`. */
const pageSize = 1000;

export interface LogArchive {
  /** `<executionId>-<timestamp>.tar.gz`, in `<dataDir>/exports/`. */
  filename: string;
  bytes: number;
}

/**
 * Writes `<dataDir>/exports/<executionId>-<timestamp>.tar.gz`: every record log file of the
 * execution plus `console.log` (every console line, oldest first). Streams throughout: files are
 * piped into the archive and console lines are paged through a temporary file (a tar entry needs
 * its size up front). The archive appears under its name only once complete.
 */
export async function buildLogArchive(
  store: Store,
  dataDir: string,
  executionId: string,
): Promise<LogArchive> {
  const [execution] = uuid.test(executionId)
    ? await store.db.select({ id: executions.id }).from(executions).where(eq(executions.id, executionId))
    : [];
  if (!execution) throw notFound('execution', executionId);

  const directory = exportsDir(dataDir);
  await mkdir(directory, { recursive: true });
  const filename = await freeName(directory, `${executionId}-${timestamp(new Date())}`);
  const scratch = path.join(directory, `.${randomBytes(6).toString('hex')}`);
  const partial = `${scratch}.tar.gz.partial`;
  const consoleFile = `${scratch}.console.log`;

  try {
    await writeConsoleLog(store.db, executionId, consoleFile);
    const files = await listRecordLogs(store.db, executionId);
    const pack = tar.pack();
    const written = pipeline(pack, createGzip(), createWriteStream(partial));
    const added = (async () => {
      for (const file of files) {
        await addFile(pack, path.join(recordLogDir(dataDir, executionId), file.filename), file.filename);
      }
      await addFile(pack, consoleFile, 'console.log');
      pack.finalize();
    })();
    try {
      await Promise.all([added, written]);
    } catch (error) {
      pack.destroy(error as Error);
      throw error;
    }
    await rename(partial, path.join(directory, filename));
    const { size } = await stat(path.join(directory, filename));
    return { filename, bytes: size };
  } finally {
    await rm(consoleFile, { force: true });
    await rm(partial, { force: true });
  }
}

/** Adds one file to the archive as it is on disk; a record log file that vanished is skipped. */
async function addFile(pack: tar.Pack, file: string, name: string): Promise<void> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const entry = pack.entry({ name, size: info.size, mtime: info.mtime, mode: 0o644, type: 'file' });
  await pipeline(createReadStream(file), entry);
}

/** One line per console entry: `<iso time> <level> [schema] message`, oldest first. */
export function formatConsoleLine(entry: {
  createdAt: Date;
  level: string;
  schemaId: string | null;
  message: string;
}): string {
  const schema = entry.schemaId === null ? '' : ` [${entry.schemaId}]`;
  const message = entry.message.replace(/\r?\n/g, '\\n');
  return `${entry.createdAt.toISOString()} ${entry.level}${schema} ${message}\n`;
}

async function writeConsoleLog(db: Db, executionId: string, file: string): Promise<void> {
  const out = createWriteStream(file);
  let failure: Error | undefined;
  out.on('error', (error) => {
    failure ??= error;
  });
  try {
    let after = -1;
    for (;;) {
      const rows = await db
        .select()
        .from(consoleLogs)
        .where(and(eq(consoleLogs.executionId, executionId), gt(consoleLogs.id, after)))
        .orderBy(asc(consoleLogs.id))
        .limit(pageSize);
      for (const row of rows) {
        if (failure) throw failure;
        if (!out.write(formatConsoleLine(row))) await drained(out);
      }
      if (rows.length < pageSize) break;
      after = rows.at(-1)!.id;
    }
  } finally {
    if (!out.closed) {
      const closed = once(out, 'close');
      out.end();
      await closed.catch(() => {});
    }
  }
  if (failure) throw failure;
}

/** Waits until the stream wants more (or has closed, on error). */
function drained(out: WriteStream): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      out.off('drain', done);
      out.off('close', done);
      resolve();
    };
    out.on('drain', done);
    out.on('close', done);
  });
}

/** `20240102T030405678Z`: sortable and safe in file names and URLs. */
const timestamp = (at: Date) => at.toISOString().replace(/[-:.]/g, '');

async function freeName(directory: string, stem: string): Promise<string> {
  for (let n = 0; ; n++) {
    const name = `${stem}${n === 0 ? '' : `-${n}`}.tar.gz`;
    try {
      await stat(path.join(directory, name));
    } catch {
      return name;
    }
  }
}
