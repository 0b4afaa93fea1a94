import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compilePlan, contentHash, hashed, predicate, recordJson } from '../../src/engine/model/plan.ts';
import type { ModelFieldInfo, ModelSyncRow } from '../../src/store/schema.ts';

const field = (name: string): ModelFieldInfo => ({
  name,
  remote_type: 'text',
  type: 'string',
  logical_type: { kind: 'text' },
  nullable: true,
});
const fields = ['id', 'email', 'score', 'created'].map(field);
const ref = (name: string) => ({ model_id: 'm', field: name });

const sync = (overrides: Partial<ModelSyncRow>): ModelSyncRow =>
  ({
    fields: [
      { source: ref('id'), target: 'user_id' },
      { source: ref('email'), target: 'mail' },
      { override_value: 'ferry', target: 'origin' },
    ],
    identity: { source: ref('id'), target: 'user_id', function: 'Equality' },
    filters: [],
    filterLogic: null,
    overrides: [],
    ...overrides,
  }) as ModelSyncRow;

describe('model sync plan', () => {
  it('maps source fields and constants onto target fields, keyed by the identity', () => {
    const plan = compilePlan(sync({}), fields);
    assert.deepEqual(plan.columns, ['user_id', 'mail', 'origin']);
    assert.equal(plan.identityIndex, 0);
    const result = plan.map(['7', 'a@x.io', '3', null]);
    assert.deepEqual(result, { kind: 'record', record: { key: '7', values: ['7', 'a@x.io', 'ferry'] } });
    assert.ok(result.kind === 'record');
    assert.deepEqual(hashed(result.record), {
      identity: '7',
      values: ['7', 'a@x.io', 'ferry'],
      hash: contentHash(['7', 'a@x.io', 'ferry']),
    });
    assert.deepEqual(plan.map([null, 'b@x.io', '1', null]).kind, 'no_identity');
  });

  it('adds the identity target when no field maps it', () => {
    const plan = compilePlan(
      sync({
        fields: [{ source: ref('email'), target: 'mail' }],
        identity: { source: ref('id'), target: 'key', function: 'Equality' },
      }),
      fields,
    );
    assert.deepEqual(plan.columns, ['mail', 'key']);
    assert.equal(plan.identityIndex, 1);
  });

  it('identifies records by content when the sync has no identity', () => {
    const plan = compilePlan(sync({ identity: null }), fields);
    const a = plan.map(['1', 'a', '0', null]);
    const b = plan.map(['1', 'a', '9', null]);
    assert.equal(plan.identityIndex, -1);
    assert.ok(a.kind === 'record' && b.kind === 'record');
    assert.equal(a.record.key, null);
    assert.equal(
      hashed(a.record).identity,
      hashed(b.record).identity,
      'unmapped fields do not change the record',
    );
  });

  it('applies filters with and/or logic and overrides before mapping', () => {
    const both = compilePlan(
      sync({
        filters: [
          { field: ref('score'), function: 'GreaterThan', value: 5 },
          { field: ref('email'), function: 'StringEndsWith', value: '@x.io' },
        ],
      }),
      fields,
    );
    assert.equal(both.map(['1', 'a@x.io', '10', null]).kind, 'record');
    assert.equal(both.map(['1', 'a@y.io', '10', null]).kind, 'filtered');
    assert.equal(both.map(['1', 'a@x.io', '9.5e-1', null]).kind, 'filtered');
    const either = compilePlan(
      sync({
        filters: [
          { field: ref('score'), function: 'GreaterThan', value: 5 },
          { field: ref('email'), function: 'StringEndsWith', value: '@x.io' },
        ],
        filterLogic: 'or',
      }),
      fields,
    );
    assert.equal(either.map(['1', 'a@x.io', '1', null]).kind, 'record');
    assert.equal(either.map(['1', 'a@y.io', '1', null]).kind, 'filtered');
    const overridden = compilePlan(
      sync({ overrides: [{ field: ref('email'), function: 'IsNull', override: 'unknown@x.io' }] }),
      fields,
    );
    const mapped = overridden.map(['1', null, '1', null]);
    assert.ok(mapped.kind === 'record');
    assert.deepEqual(mapped.record.values, ['1', 'unknown@x.io', 'ferry']);
  });

  it('compares numbers as numbers, timestamps as instants, and lists as sets', () => {
    assert.equal(predicate('GreaterThan', 9)('10'), true);
    assert.equal(predicate('GreaterThan', '9')('10'), true);
    assert.equal(predicate('OnOrAfter', '2024-01-01T00:00:00Z')('2024-01-01 00:00:00+00'), true);
    assert.equal(predicate('OnOrBefore', '2024-01-01')('2024-01-02 00:00:00+00'), false);
    assert.equal(predicate('StringOneOf', ['a', 'b'])('b'), true);
    assert.equal(predicate('StringNotOneOf', ['a', 'b'])(null), true);
    assert.equal(predicate('Between', [1, 5])('5'), true);
    assert.equal(predicate('Equality', '1.0')('1'), true);
    assert.equal(predicate('Inequality', 'x')(null), true);
    assert.equal(predicate('True', undefined)('t'), true);
    assert.equal(predicate('False', undefined)('t'), false);
    assert.throws(() => predicate('Telepathy', 1));
  });

  it('hashes equal values equally and distinguishes null from empty', () => {
    assert.equal(contentHash(['a', null]), contentHash(['a', null]));
    assert.notEqual(contentHash(['a', null]), contentHash(['a', '']));
    assert.notEqual(contentHash(['a,b']), contentHash(['a', 'b']));
  });

  it('prints a record as JSON.stringify prints its object: key order, repeated columns, escapes, nulls', () => {
    const cases: [string[], (string | null)[]][] = [
      [
        ['id', 'email', 'name'],
        ['1', 'a@b.c', null],
      ],
      [
        ['b', '10', 'a', '2', '__proto__'],
        ['x', 'y', 'z', 'w', 'p'],
      ],
      [
        ['a', 'b', 'a'],
        ['first', 'second', 'last'],
      ],
      [
        ['quote"d', 'back\\slash', 'é\n'],
        ['"\\\n\u0000', '\ud800', '😀'],
      ],
      [['short'], []],
      [[], []],
    ];
    for (const [columns, values] of cases) {
      const expected = JSON.stringify(Object.fromEntries(columns.map((c, j) => [c, values[j] ?? null])));
      assert.equal(recordJson(columns)(values), expected, columns.join());
    }
  });
});
