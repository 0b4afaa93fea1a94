import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, it } from 'node:test';
import { RepeatedIdentities } from '../../src/engine/model/repeated-identities.ts';

/** Streams `text` in pieces of `size` bytes through a tracker; returns the bytes out and the tracker. */
async function track(text: string, size: number, expected?: number) {
  const bytes = Buffer.from(text);
  const pieces: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) pieces.push(bytes.subarray(i, i + size));
  const tracker = new RepeatedIdentities(expected);
  const out = await buffer(Readable.from(pieces).pipe(tracker));
  return { out: out.toString(), repeated: [...tracker.repeated].sort() };
}

describe('repeated identities', () => {
  const rows = [
    'a\th1',
    'b\th2',
    'café \\t x\th3', // an escaped tab in the identity
    'a\th4',
    '\th5', // empty identity
    'd\th6',
    '\th7',
    'café \\t x\th3',
    'ee\th8',
  ].join('\n');

  it('finds the identities that occur twice, whatever the chunk boundaries, and passes the bytes on', async () => {
    for (const size of [1, 2, 3, 7, 64, 4096]) {
      for (const text of [`${rows}\n`, rows]) {
        const { out, repeated } = await track(text, size);
        assert.equal(out, text, `size ${size}`);
        assert.deepEqual(repeated, ['', 'a', 'café \t x'], `size ${size}`);
      }
    }
  });

  it('keeps exact answers past its first table size, however large it was made for the identities expected', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 300_000; i++) lines.push(`${i}\tx`);
    for (const again of [5, 77_777, 299_999]) lines.push(`${again}\ty`);
    for (const expected of [undefined, 300_000, 10, 100_000_000]) {
      const { repeated } = await track(`${lines.join('\n')}\n`, 65_536, expected);
      assert.deepEqual(repeated, ['299999', '5', '77777'], String(expected));
    }
  });
});
