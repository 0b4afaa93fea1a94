import { Transform, type TransformCallback } from 'node:stream';
import { unescapeCopyText } from '../../connectors/postgres/reader.ts';

const TAB = 0x09;
const NEWLINE = 0x0a;
const initialSlots = 1 << 16;
/** 64 MB of slots at most before any identity is seen. */
const maxInitialSlots = 1 << 23;

/**
 * Passes COPY text rows (`identity<TAB>…`) through unchanged and notes the identities that occur more
 * than once. An identity is kept as a 64-bit hash, 8 bytes a slot (16 MB for a million identities,
 * where a `Set` of the strings holds several times that); two identities whose hashes collide both
 * count as repeated, which costs the run one more look at them, never a wrong result: what is sent
 * is decided on the records themselves.
 */
export class RepeatedIdentities extends Transform {
  /** Identities seen more than once (unescaped). */
  readonly repeated = new Set<string>();
  #low: Uint32Array;
  #high: Uint32Array;
  #used = 0;
  /** The end of the last chunk, up to its last newline. */
  #partial: Buffer | undefined;

  /**
   * `expected`: about how many identities will pass (the state's count): the table starts large
   * enough for them instead of doubling its way there (rehashing a million slots cost ~0.4 s).
   */
  constructor(expected = 0) {
    super();
    let slots = initialSlots;
    while (slots < expected * 2 && slots < maxInitialSlots) slots *= 2;
    this.#low = new Uint32Array(slots);
    this.#high = new Uint32Array(slots);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    const data = this.#partial ? Buffer.concat([this.#partial, chunk]) : chunk;
    let start = 0;
    for (let end = data.indexOf(NEWLINE); end !== -1; end = data.indexOf(NEWLINE, start)) {
      const tab = data.indexOf(TAB, start);
      this.#note(data, start, tab === -1 || tab > end ? end : tab);
      start = end + 1;
    }
    this.#partial = start < data.length ? data.subarray(start) : undefined;
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.#partial) {
      const tab = this.#partial.indexOf(TAB);
      this.#note(this.#partial, 0, tab === -1 ? this.#partial.length : tab);
    }
    done();
  }

  #note(data: Buffer, from: number, to: number): void {
    // Two FNV-1a hashes with different offsets make the 64 bits; `| 1` keeps 0 for empty slots.
    let low = 0x811c9dc5;
    let high = 0x01000193;
    for (let i = from; i < to; i++) {
      low = Math.imul(low ^ data[i]!, 0x01000193);
      high = Math.imul(high ^ data[i]!, 0x050c5d1f);
    }
    low = (low | 1) >>> 0;
    high >>>= 0;
    const mask = this.#low.length - 1;
    let slot = (low ^ high) & mask;
    while (this.#low[slot] !== 0) {
      if (this.#low[slot] === low && this.#high[slot] === high) {
        this.repeated.add(unescapeCopyText(data.toString('utf8', from, to)));
        return;
      }
      slot = (slot + 1) & mask;
    }
    this.#low[slot] = low;
    this.#high[slot] = high;
    if (++this.#used * 2 > this.#low.length) this.#grow();
  }

  /** Doubles the table (kept at most half full, so probes stay short). */
  #grow(): void {
    const low = this.#low;
    const high = this.#high;
    this.#low = new Uint32Array(low.length * 2);
    this.#high = new Uint32Array(low.length * 2);
    const mask = this.#low.length - 1;
    for (let i = 0; i < low.length; i++) {
      if (low[i] === 0) continue;
      let slot = (low[i]! ^ high[i]!) & mask;
      while (this.#low[slot] !== 0) slot = (slot + 1) & mask;
      this.#low[slot] = low[i]!;
      this.#high[slot] = high[i]!;
    }
  }
}
