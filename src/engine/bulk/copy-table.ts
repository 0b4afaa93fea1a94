import { pipeline, type Readable, Transform } from 'node:stream';
import { FerryError } from '../../domain/errors.ts';
import type {
  LoadResult,
  ReadRequest,
  RejectedRow,
  TableReader,
  TableTarget,
  TableWriter,
} from './contracts.ts';

/**
 * Passes a COPY text stream through, reporting how many rows went by: in COPY text every row ends
 * with a newline byte and newlines inside values are escaped, so counting newline bytes counts rows.
 */
function countingRows(source: Readable, onRows: (rows: number) => void): Readable {
  let pending = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) pending++;
      if (pending >= progressEvery) {
        onRows(pending);
        pending = 0;
      }
      done(null, chunk);
    },
    flush(done) {
      if (pending > 0) onRows(pending);
      done();
    },
  });
  // Errors and early ends travel both ways: a failed source fails the load, a destroyed load stops the source.
  pipeline(source, counter, () => {});
  return counter;
}

const progressEvery = 10_000;

/** Failures worth another attempt: lost connections and unavailable databases, not refused data. */
export function isRetryable(error: unknown): boolean {
  return error instanceof FerryError
    ? error.code === 'connection_failed' || error.code === 'unavailable'
    : true;
}

/**
 * How much of the table a run reloads: `none` continues from the stored cursor; `refetch` reads
 * everything and merges it; `resync` reads everything and swaps in a complete new table; `rebuild`
 * does the same with the table recreated from the source's columns.
 */
export type Reload = 'none' | 'refetch' | 'resync' | 'rebuild';

export interface CopyTableOptions {
  reader: TableReader;
  writer: TableWriter;
  target: TableTarget;
  read: Omit<ReadRequest, 'incremental' | 'signal'>;
  mode: 'snapshot' | 'replicate';
  reload: Reload;
  /** Source field of the incremental cursor (replicate mode). */
  cursorField?: string | undefined;
  attemptId: string;
  signal: AbortSignal;
  onReject: (rejected: RejectedRow) => void;
  onProgress: (rows: number) => void;
  /** Awaited before each attempt reads: `full` when it reads the whole table, not only past a cursor. */
  beforeRead?: (read: { full: boolean }) => Promise<void>;
  /**
   * Awaited before the load commits, to abort `signal` on a cancel that came in while the rows moved:
   * a run whose cancel was accepted must not then commit because the watcher's next poll was late.
   */
  beforeCommit?: () => Promise<void>;
}

/**
 * Moves one table: reads from the stored cursor on (replicate) or everything (snapshot, reloads),
 * streams batch by batch into the destination's staging area, then commits atomically. Any failure or
 * cancel drops the staging area, so the destination keeps its previous complete state.
 */
export async function copyTable(options: CopyTableOptions): Promise<LoadResult> {
  const { reader, writer, target, mode, reload, signal } = options;
  const continues = mode === 'replicate' && reload === 'none' && options.cursorField !== undefined;
  const after = continues ? await writer.readCursor(target) : null;
  // Without a stored cursor a replicate run reads the whole table: swapping that in is far cheaper
  // than merging every row, and gives the same table.
  const resync = reload === 'resync' || reload === 'rebuild' || (continues && after === null);
  await options.beforeRead?.({ full: after === null });
  const request: ReadRequest = {
    ...options.read,
    signal,
    // Only a read from a stored position is incremental: a first load or a reload copies every row,
    // those whose cursor is NULL too (the destination's position skips them).
    ...(mode === 'replicate' && options.cursorField && after !== null
      ? { incremental: { cursorField: options.cursorField, after } }
      : {}),
  };
  const begin = (attemptId: string) =>
    writer.begin(target, {
      mode,
      resync,
      rebuild: reload === 'rebuild',
      attemptId,
      signal,
      onReject: options.onReject,
    });

  if (reader.copyText) {
    // PostgreSQL to PostgreSQL: COPY bytes flow through without being parsed. If the destination
    // refuses some row, the attempt is discarded and the table is moved again row by row below,
    // where refused rows are isolated and logged instead of failing the table.
    const load = await begin(options.attemptId);
    if (load.writeCopyText) {
      try {
        await load.writeCopyText(countingRows(reader.copyText(request), options.onProgress));
        await options.beforeCommit?.();
        signal.throwIfAborted();
        return await load.commit();
      } catch (error) {
        await load.abort().catch(() => {});
        // A lost connection is the table's retry to make (and to log), not a reason to go row by row.
        if (signal.aborted || isRetryable(error)) throw error;
      }
    } else {
      await load.abort();
    }
  }

  const load = await begin(`${options.attemptId}r`);
  try {
    for await (const batch of reader.read(request)) {
      signal.throwIfAborted();
      await load.write(batch);
      options.onProgress(batch.length);
    }
    await options.beforeCommit?.();
    signal.throwIfAborted();
    return await load.commit();
  } catch (error) {
    await load.abort().catch(() => {});
    throw error;
  }
}
