import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MappedRecord } from '../../src/engine/model/plan.ts';
import { rejectedOf } from '../../src/engine/model/targets/http.ts';

const records: MappedRecord[] = ['1', '2', '3'].map((id) => ({ identity: id, values: [id], hash: id }));

describe('http model target: records a response refuses', () => {
  it('reads {"errors": [{"index", "message"}]}, ignoring entries that name no record', () => {
    const rejected = rejectedOf(
      records,
      JSON.stringify({
        errors: [{ index: 2, message: 'blocked' }, { index: 7 }, { index: '0', message: 'x' }],
      }),
    );
    assert.deepEqual(
      rejected.map((r) => [r.record.identity, r.reason]),
      [['3', 'blocked']],
    );
    assert.deepEqual(rejectedOf(records, 'not json'), []);
    assert.deepEqual(rejectedOf(records, '{"errors": "none"}'), []);
  });

  it('refuses a record named by several entries once, with their messages', () => {
    const rejected = rejectedOf(
      records,
      JSON.stringify({
        errors: [
          { index: 0, message: 'email is invalid' },
          { index: 0, message: 'name is required' },
          { index: 0, message: 'email is invalid' },
          { index: 1, message: 'blocked' },
        ],
      }),
    );
    assert.deepEqual(
      rejected.map((r) => [r.record.identity, r.reason]),
      [
        ['1', 'email is invalid; name is required'],
        ['2', 'blocked'],
      ],
    );
  });
});
