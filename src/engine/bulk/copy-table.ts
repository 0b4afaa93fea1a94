import type {
  LoadResult,
  ReadRequest,
  RejectedRow,
  TableReader,
  TableTarget,
  TableWriter,
} from './contracts.ts';

export interface CopyTableOptions {
  reader: TableReader;
  writer: TableWriter;
  target: TableTarget;
  read: Omit<ReadRequest, 'incremental' | 'signal'>;
  mode: 'snapshot' | 'replicate';
  /** Rebuild from scratch: ignore the stored cursor and swap in a complete new table. */
  resync: boolean;
  /** Source field of the incremental cursor (replicate mode). */
  cursorField?: string | undefined;
  attemptId: string;
  signal: AbortSignal;
  onReject: (rejected: RejectedRow) => void;
  onProgress: (rows: number) => void;
}

/**
 * Moves one table: reads from the stored cursor on (replicate) or everything (snapshot, resync),
 * streams batch by batch into the destination's staging area, then commits atomically. Any failure or
 * cancel drops the staging area, so the destination keeps its previous complete state.
 */
export async function copyTable(options: CopyTableOptions): Promise<LoadResult> {
  const { reader, writer, target, mode, resync, signal } = options;
  const incremental = mode === 'replicate' && !resync && options.cursorField !== undefined;
  const after = incremental ? await writer.readCursor(target) : null;
  const request: ReadRequest = {
    ...options.read,
    signal,
    ...(mode === 'replicate' && options.cursorField
      ? { incremental: { cursorField: options.cursorField, after } }
      : {}),
  };
  const begin = (attemptId: string) =>
    writer.begin(target, { mode, resync, attemptId, signal, onReject: options.onReject });

  if (reader.copyText) {
    // PostgreSQL to PostgreSQL: COPY bytes flow through without being parsed. If the destination
    // refuses some row, the attempt is discarded and the table is moved again row by row below,
    // where refused rows are isolated and logged instead of failing the table.
    const load = await begin(options.attemptId);
    if (load.writeCopyText) {
      try {
        await load.writeCopyText(reader.copyText(request));
        signal.throwIfAborted();
        return await load.commit();
      } catch (error) {
        await load.abort().catch(() => {});
        if (signal.aborted) throw error;
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
    signal.throwIfAborted();
    return await load.commit();
  } catch (error) {
    await load.abort().catch(() => {});
    throw error;
  }
}
