import { reserve } from '../../../connectors/postgres/copy-text.ts';
import { unescapeCopyText } from '../../../connectors/postgres/reader.ts';
import { recordKeys } from '../plan.ts';
import type { JsonLines } from '../targets.ts';

const TAB = 0x09;
const NEWLINE = 0x0a;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NULL_JSON = Buffer.from('null');
const initialBytes = 64 * 1024;

/** JSON lines printed into a growing buffer; `take` hands them over and starts a new one. */
export class JsonLinesBuffer {
  #buffer: Buffer = Buffer.allocUnsafe(initialBytes);
  #length = 0;
  #count = 0;

  get length(): number {
    return this.#length;
  }

  get count(): number {
    return this.#count;
  }

  /** The lines so far (the buffer is theirs: the next line goes into a new one). */
  take(): JsonLines {
    const lines = { bytes: this.#buffer.subarray(0, this.#length), count: this.#count };
    this.#buffer = Buffer.allocUnsafe(Math.max(initialBytes, this.#length));
    this.#length = 0;
    this.#count = 0;
    return lines;
  }

  /** Forgets the lines so far, keeping the buffer. */
  clear(): void {
    this.#length = 0;
    this.#count = 0;
  }

  /** The lines so far as text, without the last newline. */
  text(): string {
    return this.#buffer.toString('utf8', 0, Math.max(0, this.#length - 1));
  }

  /** Room for `bytes` more bytes. */
  reserve(bytes: number): Buffer {
    this.#buffer = reserve(this.#buffer, this.#length, bytes);
    return this.#buffer;
  }

  /** Marks `bytes` more bytes written (after `reserve`); `line` when they end a line. */
  advance(bytes: number, line: boolean): void {
    this.#length += bytes;
    if (line) this.#count++;
  }
}

/**
 * Prints records' JSON lines straight from rows of `COPY ... TO STDOUT` text, byte for byte what
 * `recordJson` prints for their values: `\N` is null, and a field without escapes, quotes or control
 * characters (most of them) is copied between quotes as it is, never becoming a string; the others are
 * unescaped and printed by `JSON.stringify`. A million records' logs take a fraction of the time that
 * building a string per value (then per record, then per line) took.
 */
export class CopyRecordJson {
  readonly #prefixes: Buffer[];
  /** The bytes of a line besides its values: every prefix, two quotes a value, `}` and the newline. */
  readonly #frameBytes: number;
  readonly #indexes: number[];
  readonly #starts: Int32Array;
  readonly #ends: Int32Array;
  readonly #scratch = new JsonLinesBuffer();

  constructor(columns: string[]) {
    const { prefixes, indexes } = recordKeys(columns);
    this.#prefixes = prefixes.map((prefix) => Buffer.from(prefix));
    this.#frameBytes = this.#prefixes.reduce((sum, prefix) => sum + prefix.length, 2 * columns.length + 3);
    this.#indexes = indexes;
    this.#starts = new Int32Array(columns.length);
    this.#ends = new Int32Array(columns.length);
  }

  /** Appends to `out` the JSON line of the record whose values are `row`'s fields from byte `from`. */
  print(row: Buffer, from: number, out: JsonLinesBuffer): void {
    const starts = this.#starts;
    const ends = this.#ends;
    const width = starts.length;
    for (let j = 0; j < width; j++) {
      const tab = row.indexOf(TAB, from);
      starts[j] = from;
      ends[j] = tab === -1 ? row.length : tab;
      from = ends[j]! + 1;
    }
    if (width > 0 && (from !== row.length + 1 || starts[width - 1]! > row.length))
      throw new Error(
        `COPY row does not have the ${width} values of the record: ${row.toString('utf8', 0, 200)}`,
      );
    // Room for the row copied as it is, every prefix and quote, the braces and the newline.
    const bytes = row.length + this.#frameBytes;
    let buffer = out.reserve(bytes);
    let at = out.length;
    if (this.#prefixes.length === 0) buffer[at++] = 0x7b; // `{`; the prefixes open the object otherwise
    for (let i = 0; i < this.#prefixes.length; i++) {
      at += this.#prefixes[i]!.copy(buffer, at);
      const start = starts[this.#indexes[i]!]!;
      const end = ends[this.#indexes[i]!]!;
      if (end - start === 2 && row[start] === BACKSLASH && row[start + 1] === 0x4e) {
        at += NULL_JSON.copy(buffer, at);
        continue;
      }
      let plain = true;
      for (let k = start; k < end; k++) {
        const c = row[k]!;
        if (c < 0x20 || c === QUOTE || c === BACKSLASH) {
          plain = false;
          break;
        }
      }
      if (plain) {
        buffer[at++] = QUOTE;
        at += row.copy(buffer, at, start, end);
        buffer[at++] = QUOTE;
        continue;
      }
      const json = JSON.stringify(unescapeCopyText(row.toString('utf8', start, end)));
      // Escaped text can be longer than the field was: make room for it and the rest of the row.
      out.advance(at - out.length, false);
      buffer = out.reserve(Buffer.byteLength(json) + bytes);
      at = out.length;
      at += buffer.write(json, at);
    }
    buffer[at++] = 0x7d; // `}`
    buffer[at++] = NEWLINE;
    out.advance(at - out.length, true);
  }

  /** The JSON of one record (no newline) as a string. */
  string(row: Buffer, from: number): string {
    this.#scratch.clear();
    this.print(row, from, this.#scratch);
    return this.#scratch.text();
  }
}
