/**
 * COPY text format (`COPY ... FROM STDIN`, the default format): one line per row, columns separated
 * by a tab, `\N` for NULL, and backslash, tab, newline and carriage return escaped. The empty string
 * is an empty field, so it stays distinct from NULL.
 */
import type { RowBatch } from '../../engine/bulk/contracts.ts';

const SPECIAL = /[\\\t\n\r]/;
const SPECIAL_ALL = /[\\\t\n\r]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** One field of a COPY text line. */
export function copyField(value: string | null): string {
  if (value === null) return '\\N';
  return SPECIAL.test(value) ? value.replace(SPECIAL_ALL, (c) => ESCAPES[c]!) : value;
}

/** Rows of a batch as COPY text lines (each ending with a newline). */
export function encodeCopyRows(rows: RowBatch): string {
  let out = '';
  for (const row of rows) {
    for (let i = 0; i < row.length; i++) {
      if (i > 0) out += '\t';
      out += copyField(row[i] ?? null);
    }
    out += '\n';
  }
  return out;
}
