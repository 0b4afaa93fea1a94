/**
 * COPY text format (`COPY ... FROM STDIN`, the default format): one line per row, columns separated
 * by a tab, `\N` for NULL, and backslash, tab, newline and carriage return escaped. The empty string
 * is an empty field, so it stays distinct from NULL.
 */
import type { RowBatch } from '../../engine/bulk/contracts.ts';

const TAB = 9;
const NEWLINE = 10;
const RETURN = 13;
const BACKSLASH = 92;
const LETTER_N = 78;
const LETTER_T = 116;
const LETTER_N_LOWER = 110;
const LETTER_R = 114;

/** `buffer`, or a copy of its first `used` bytes in a larger one, with room for `bytes` more. */
export function reserve(buffer: Buffer, used: number, bytes: number): Buffer {
  if (used + bytes <= buffer.length) return buffer;
  // Never pooled memory: the caller keeps (or reuses) the whole buffer.
  const grown = Buffer.allocUnsafeSlow(Math.max(used + bytes, 2 * buffer.length));
  buffer.copy(grown, 0, 0, used);
  return grown;
}

/**
 * Encodes batches of rows as COPY text lines (each ending with a newline), UTF-8: the bytes of
 * `Buffer.from(lines)` where `lines` joins each value, `\N` for null, its backslash, tab, newline and
 * carriage return escaped. The bytes are written straight into one buffer, with no intermediate string
 * per field or line (the batches of a load go through here row by row, and strings built by
 * concatenation would be garbage for the garbage collector to copy and promote while the batch is
 * loaded), and the buffer is reused batch after batch, grown when a batch needs more: a load allocates
 * its memory once instead of once a batch.
 */
export class CopyTextEncoder {
  #buffer: Buffer | undefined;

  /** The COPY text of `rows`, in this encoder's buffer: the bytes are valid until the next call. */
  encode(rows: RowBatch): Buffer {
    const out = encodeInto(rows, this.#buffer);
    this.#buffer = out.buffer;
    return out.buffer.subarray(0, out.length);
  }
}

function encodeInto(rows: RowBatch, buffer: Buffer | undefined): { buffer: Buffer; length: number } {
  // Exact for ASCII without escapes, plus room to check each field against its worst case (3 bytes
  // a code unit, a tab and a newline) without growing: a value never takes more than 3× its length.
  let size = 16;
  let longest = 0;
  for (const row of rows) {
    for (let i = 0; i < row.length; i++) {
      const value = row[i];
      if (value === null || value === undefined) size += 3;
      else {
        size += value.length + 1;
        if (value.length > longest) longest = value.length;
      }
    }
    if (row.length === 0) size++;
  }
  let out = reserve(buffer ?? Buffer.alloc(0), 0, size + 2 * longest);
  let at = 0;
  for (const row of rows) {
    if (row.length === 0) out = reserve(out, at, 1);
    for (let i = 0; i < row.length; i++) {
      const value = row[i];
      const length = value === null || value === undefined ? 0 : value.length;
      // Worst case of this field: tab, 3 bytes a code unit (or `\N`), newline.
      if (at + 3 * length + 4 > out.length) out = reserve(out, at, 3 * length + 4);
      if (i > 0) out[at++] = TAB;
      if (value === null || value === undefined) {
        out[at++] = BACKSLASH;
        out[at++] = LETTER_N;
        continue;
      }
      for (let k = 0; k < length; k++) {
        let c = value.charCodeAt(k);
        if (c < 0x80) {
          if (c === BACKSLASH || c === TAB || c === NEWLINE || c === RETURN) {
            out[at++] = BACKSLASH;
            c =
              c === BACKSLASH ? BACKSLASH : c === TAB ? LETTER_T : c === NEWLINE ? LETTER_N_LOWER : LETTER_R;
          }
          out[at++] = c;
        } else if (c < 0x800) {
          out[at++] = 0xc0 | (c >> 6);
          out[at++] = 0x80 | (c & 0x3f);
        } else {
          if (c >= 0xd800 && c <= 0xdfff) {
            const next = k + 1 < length ? value.charCodeAt(k + 1) : 0;
            if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
              // A surrogate pair: one code point, 4 bytes.
              const point = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
              out[at++] = 0xf0 | (point >> 18);
              out[at++] = 0x80 | ((point >> 12) & 0x3f);
              out[at++] = 0x80 | ((point >> 6) & 0x3f);
              out[at++] = 0x80 | (point & 0x3f);
              k++;
              continue;
            }
            c = 0xfffd; // a lone surrogate, replaced as Buffer.from does
          }
          out[at++] = 0xe0 | (c >> 12);
          out[at++] = 0x80 | ((c >> 6) & 0x3f);
          out[at++] = 0x80 | (c & 0x3f);
        }
      }
    }
    out[at++] = NEWLINE;
  }
  return { buffer: out, length: at };
}
