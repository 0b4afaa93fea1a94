import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CopyTextEncoder } from '../../src/connectors/postgres/copy-text.ts';
import type { RowBatch } from '../../src/engine/bulk/contracts.ts';

const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
/** One field of a COPY text line, as a string. */
const copyField = (value: string | null) =>
  value === null ? '\\N' : value.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c]!);

/** A fresh encoder's bytes for `rows`. */
const encodeCopyRows = (rows: RowBatch) => new CopyTextEncoder().encode(rows);

/** The COPY text of rows as one string, field by field (what the encoder must encode). */
const copyLines = (rows: RowBatch) => rows.map((row) => `${row.map(copyField).join('\t')}\n`).join('');

describe('COPY text encoding', () => {
  it('encodes rows like their COPY text lines encoded as UTF-8', () => {
    const rows: RowBatch = [
      ['1', 'plain', null, ''],
      ['tab\there', 'new\nline', 'cr\rlf\r\n', 'back\\slash \\N'],
      ['é', 'héllo 😀 — 中文', '\u0000\u007f\u0080\u07ff\u0800\uffff', '\ud800 lone \udfff high\ud83d'],
      [],
      [null],
      ['x'.repeat(10_000), 'ü'.repeat(5_000), '😀'.repeat(3_000), '\\'.repeat(4_000)],
    ];
    assert.deepEqual(encodeCopyRows(rows), Buffer.from(copyLines(rows)));
    for (let i = 0; i < rows.length; i++)
      assert.deepEqual(encodeCopyRows(rows.slice(i, i + 1)), Buffer.from(copyLines(rows.slice(i, i + 1))));
  });

  it('encodes a batch that outgrows its first estimate', () => {
    // Many short non-ASCII values take up to 3 bytes a character: the buffer grows, often.
    const rows: RowBatch = Array.from({ length: 2_000 }, (_, i) => [
      '中'.repeat(i % 7),
      i % 3 === 0 ? null : '\t\\',
      '😀',
      String(i),
    ]);
    assert.deepEqual(encodeCopyRows(rows), Buffer.from(copyLines(rows)));
    assert.deepEqual(encodeCopyRows([]), Buffer.alloc(0));
  });
});
