import type { Readable } from 'node:stream';

const NEWLINE = 0x0a;

/**
 * Splits a COPY text stream into chunks of `rows` lines, as slices of the buffers read (nothing parsed
 * or copied). When `early()` says so, the whole lines read so far go out at once as a smaller chunk.
 */
export async function* copyChunks(
  stream: Readable,
  rows: number,
  early: () => boolean,
): AsyncGenerator<{ copy: Buffer[]; rows: number }> {
  let lines: Buffer[] = []; // `count` whole lines
  let count = 0;
  let tail: Buffer[] = []; // a line begun, not ended yet
  for await (const data of stream as AsyncIterable<Buffer>) {
    let from = 0;
    for (let end = data.indexOf(NEWLINE); end !== -1; end = data.indexOf(NEWLINE, end + 1)) {
      if (++count < rows) continue;
      lines.push(...tail, data.subarray(from, end + 1));
      yield { copy: lines, rows: count };
      lines = [];
      count = 0;
      tail = [];
      from = end + 1;
    }
    const last = data.lastIndexOf(NEWLINE);
    if (last >= from) {
      lines.push(...tail, data.subarray(from, last + 1));
      tail = [];
      from = last + 1;
    }
    if (from < data.length) tail.push(data.subarray(from));
    if (count > 0 && early()) {
      yield { copy: lines, rows: count };
      lines = [];
      count = 0;
    }
  }
  if (count > 0) yield { copy: lines, rows: count };
}
