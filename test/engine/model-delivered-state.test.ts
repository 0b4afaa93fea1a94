import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeliveredState } from '../../src/engine/model/delivered-state.ts';

describe('delivered state', () => {
  it('tells new, changed, unchanged and duplicate records apart, and lists the known identities not seen', () => {
    const state = new DeliveredState();
    state.load('a', 'hash-a');
    state.load('b', 'hash-b');
    state.load('c', 'hash-c');
    assert.equal(state.known, 3);
    assert.equal(state.see('a', 'hash-a'), 'unchanged');
    assert.equal(state.see('b', 'hash-B'), 'changed');
    assert.equal(state.see('n', 'hash-n'), 'changed');
    assert.equal(state.see('a', 'hash-a'), 'duplicate');
    assert.equal(state.see('b', 'hash-b'), 'duplicate');
    assert.equal(state.see('n', 'hash-n'), 'duplicate');
    assert.deepEqual(state.unseen(), ['c']);
    assert.equal(state.known, 3);
  });

  it('compares identities and hashes exactly: prefixes, lengths, case, non-ASCII text, empty strings', () => {
    const state = new DeliveredState();
    const known = ['ab', 'abc', 'ABC', 'café', 'cafe\u0301', '日本', '😀', ''];
    for (const [i, identity] of known.entries()) state.load(identity, `h${i}`);
    assert.equal(state.see('a', 'h0'), 'changed');
    assert.equal(state.see('abc', 'h1'), 'unchanged');
    assert.equal(state.see('ab', 'h1'), 'changed');
    assert.equal(state.see('ABC', 'h2 '), 'changed');
    assert.equal(state.see('café', 'h3'), 'unchanged');
    assert.equal(state.see('cafe\u0301', 'h3'), 'changed');
    assert.equal(state.see('日本', 'h5'), 'unchanged');
    assert.equal(state.see('😀', 'h6'), 'unchanged');
    assert.equal(state.see('', 'h'), 'changed');
    assert.deepEqual(state.unseen(), []);
  });

  it('keeps strings UTF-8 cannot spell (lone surrogates) apart', () => {
    const state = new DeliveredState();
    state.load('x\uD800', 'h1');
    state.load('x\uDBFF', 'h2');
    state.load('y', 'h\uDC00');
    state.load('z', 'h\uDC01');
    assert.equal(state.known, 4);
    // Both lone surrogates would be the same replacement character in UTF-8.
    assert.equal(state.see('x\uDBFF', 'h1'), 'changed');
    assert.equal(state.see('x\uDBFF', 'h2'), 'duplicate');
    assert.equal(state.see('y', 'h\uDC01'), 'changed');
    assert.equal(state.see('z', 'h\uDC01'), 'unchanged');
    assert.equal(state.see('w\uD800', 'h'), 'changed');
    assert.equal(state.see('w\uD800', 'h'), 'duplicate');
    assert.deepEqual(state.unseen(), ['x\uD800']);
  });

  it('keeps exact answers past its first sizes, for long identities too', () => {
    const state = new DeliveredState();
    const long = 'é'.repeat(1000);
    const n = 50_000;
    for (let i = 0; i < n; i += 2) state.load(`id-${i}`, `hash-${i}`);
    state.load(long, 'long');
    assert.equal(state.known, n / 2 + 1);
    for (let i = 0; i < n; i++) {
      const expected = i % 2 === 1 ? 'changed' : i % 4 === 0 ? 'unchanged' : 'changed';
      assert.equal(state.see(`id-${i}`, i % 4 === 0 ? `hash-${i}` : `other-${i}`), expected, `id-${i}`);
    }
    for (let i = 0; i < n; i++) assert.equal(state.see(`id-${i}`, `hash-${i}`), 'duplicate');
    assert.deepEqual(state.unseen(), [long]);
    assert.equal(state.see(long, 'long'), 'unchanged');
    assert.equal(state.see(`${long}x`, 'long'), 'changed');
    assert.deepEqual(state.unseen(), []);
  });

  it('is loaded before the run sees records', () => {
    const state = new DeliveredState();
    state.load('a', 'h');
    assert.throws(() => state.load('a', 'h'), /loaded twice/);
    state.see('b', 'h');
    assert.throws(() => state.load('c', 'h'), /before the run/);
  });
});
