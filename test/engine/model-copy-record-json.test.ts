import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CopyTextEncoder } from '../../src/connectors/postgres/copy-text.ts';
import { recordJson } from '../../src/engine/model/plan.ts';
import { copyRecordJson } from '../../src/engine/model/targets/copy-record-json.ts';

/** The COPY text line PostgreSQL prints for `fields` (without its newline). */
const copyLine = (fields: (string | null)[]) =>
  new CopyTextEncoder().encode([fields]).toString('utf8').replace(/\n$/, '');

describe('record JSON from COPY text', () => {
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
  ];
  const columns = values.map((_, j) => `c${j}`);

  it('prints each record exactly as recordJson prints its values', () => {
    const fromCopy = copyRecordJson(columns);
    const printed = recordJson(columns);
    for (let shift = 0; shift < values.length; shift++) {
      const row = [...values.slice(shift), ...values.slice(0, shift)];
      const line = copyLine(['i', ...row]);
      assert.equal(fromCopy(line, 2), printed(row));
      assert.deepEqual(JSON.parse(fromCopy(line, 2)), Object.fromEntries(columns.map((c, j) => [c, row[j]])));
    }
  });

  it('orders keys as JSON.stringify orders an object: integer keys first, a repeated column keeps its last value', () => {
    const names = ['name', '2', 'id', '1', 'name'];
    const row = ['a', 'two', '7', null, 'b'];
    assert.equal(
      copyRecordJson(names)(copyLine(row), 0),
      JSON.stringify(Object.fromEntries(names.map((c, j) => [c, row[j]]))),
    );
  });

  it('refuses a row with more or fewer fields than columns', () => {
    const json = copyRecordJson(['a', 'b']);
    assert.throws(() => json('1', 0), /does not have the 2 values/);
    assert.throws(() => json('1\t2\t3', 0), /does not have the 2 values/);
    assert.equal(json('1\t\\N', 0), '{"a":"1","b":null}');
  });
});
