import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CopyTextEncoder } from '../../src/connectors/postgres/copy-text.ts';
import { recordJson } from '../../src/engine/model/plan.ts';
import { CopyRecordJson, JsonLinesBuffer } from '../../src/engine/model/targets/copy-record-json.ts';

/** The COPY text row PostgreSQL prints for `fields` (without its newline). */
const copyRow = (fields: (string | null)[]) => {
  const bytes = new CopyTextEncoder().encode([fields]);
  return Buffer.from(bytes.subarray(0, bytes.length - 1));
};

describe('record JSON lines printed from COPY text', () => {
  const values: (string | null)[] = [
    '42',
    null,
    '',
    'plain text',
    'quote " and backslash \\ inside',
    'tab\tnew line\ncarriage\rreturn',
    '\u0001\u001f control',
    '\\N',
    'émoji 😀 and ünïcode',
    '{"json": [1, 2]}',
    'x'.repeat(100_000),
    '"'.repeat(50_000),
  ];
  const columns = values.map((_, j) => `c${j}`);

  it('prints each record byte for byte as recordJson prints its values, one line each', () => {
    const printer = new CopyRecordJson(columns);
    const printed = recordJson(columns);
    const out = new JsonLinesBuffer();
    const expected: string[] = [];
    for (let shift = 0; shift < values.length; shift++) {
      const row = [...values.slice(shift), ...values.slice(0, shift)];
      printer.print(copyRow(['i', ...row]), 2, out);
      expected.push(`${printed(row)}\n`);
      assert.equal(printer.string(copyRow(row), 0), printed(row));
    }
    const lines = out.take();
    assert.equal(lines.count, values.length);
    assert.equal(lines.bytes.toString('utf8'), expected.join(''));
    assert.deepEqual(JSON.parse(expected[0]!), Object.fromEntries(columns.map((c, j) => [c, values[j]])));
    assert.equal(out.take().count, 0);
  });

  it('orders keys as JSON.stringify orders an object: integer keys first, a repeated column keeps its last value', () => {
    const names = ['name', '2', 'id', '1', 'name'];
    const row = ['a', 'two', '7', null, 'b'];
    assert.equal(
      new CopyRecordJson(names).string(copyRow(row), 0),
      JSON.stringify(Object.fromEntries(names.map((c, j) => [c, row[j]]))),
    );
    assert.equal(new CopyRecordJson([]).string(Buffer.from(''), 0), '{}');
  });

  it('refuses a row with more or fewer fields than columns', () => {
    const printer = new CopyRecordJson(['a', 'b']);
    assert.throws(() => printer.string(Buffer.from('1'), 0), /does not have the 2 values/);
    assert.throws(() => printer.string(Buffer.from('1\t2\t3'), 0), /does not have the 2 values/);
    assert.equal(printer.string(Buffer.from('1\t\\N'), 0), '{"a":"1","b":null}');
  });
});
