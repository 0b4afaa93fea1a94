import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { copyChunks } from '../../src/engine/model/copy-chunks.ts';

/** Streams `text` in pieces of `size` bytes and collects the chunks as text. */
async function split(text: string, size: number, rows: number, early = () => false) {
  const bytes = Buffer.from(text);
  const pieces: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) pieces.push(bytes.subarray(i, i + size));
  const chunks: { text: string; rows: number }[] = [];
  for await (const chunk of copyChunks(Readable.from(pieces), rows, early)) {
    chunks.push({ text: Buffer.concat(chunk.copy).toString(), rows: chunk.rows });
  }
  return chunks;
}

describe('COPY text chunks', () => {
  const lines = Array.from({ length: 10 }, (_, i) => `${i}\tnamé ${i}\t\\N\n`);

  it('cuts whole lines, whatever the read boundaries', async () => {
    for (const size of [1, 3, 7, 25, 1000]) {
      const chunks = await split(lines.join(''), size, 4);
      assert.deepEqual(
        chunks,
        [
          { text: lines.slice(0, 4).join(''), rows: 4 },
          { text: lines.slice(4, 8).join(''), rows: 4 },
          { text: lines.slice(8).join(''), rows: 2 },
        ],
        `size ${size}`,
      );
    }
  });

  it('sends the whole lines read so far when asked to stop early', async () => {
    const text = lines.join('');
    for (const size of [1, 5, 25]) {
      // Asked from a third of the reads on: a line begun before must not be cut.
      let reads = 0;
      const chunks = await split(text, size, 100, () => ++reads >= Math.ceil(text.length / size / 3));
      assert.deepEqual(chunks.map((c) => c.text).join(''), text, `size ${size}`);
      assert.ok(chunks.length > 1, `size ${size}`);
      for (const chunk of chunks) {
        assert.ok(chunk.text.endsWith('\n'), `size ${size}`);
        assert.equal(chunk.text.split('\n').length - 1, chunk.rows, `size ${size}`);
      }
    }
  });

  it('yields nothing for an empty stream', async () => {
    assert.deepEqual(await split('', 10, 4), []);
  });
});
