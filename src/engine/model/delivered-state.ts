/** What `DeliveredState.see` found of a record. */
export type Sighting = 'changed' | 'unchanged' | 'duplicate';

const SEEN = 1;
const KNOWN = 2;
/** A known identity whose hash is in `#oddHashes` (a string UTF-8 cannot spell exactly). */
const ODD_HASH = 4;

/** No lone surrogate: UTF-8 spells the string exactly (`String.prototype.isWellFormed`, ES2024). */
const wellFormed = (text: string): boolean => (text as string & { isWellFormed(): boolean }).isWellFormed();

const initialSlots = 1 << 12;
const initialEntries = 1 << 11;
const initialBytes = 1 << 15;

/**
 * The state of a run that compares in Ferry: the content hash last delivered per identity, and which
 * identities the run has seen. A million identities take tens of MB here, outside the JavaScript
 * heap, where a `Map` of strings holds several times that in objects the garbage collector walks.
 *
 * Identities (and the hashes of known ones) are kept as their exact UTF-8 bytes in one buffer, found
 * through an open-addressing table placed by a 32-bit hash of the bytes; lookups compare the bytes, so two
 * identities never pass for one another. Strings that UTF-8 cannot spell exactly (lone surrogates)
 * are kept as strings, apart.
 */
export class DeliveredState {
  /** Entry index + 1 per slot (0: empty); at most half full. */
  #slots = new Int32Array(initialSlots);
  /** Entry i's bytes are `#bytes[#starts[i], #starts[i + 1])`: its identity, then (known) its hash. */
  #starts = new Uint32Array(initialEntries + 1);
  /** Where a known entry's identity ends and its hash begins. */
  #splits = new Uint32Array(0);
  #flags = new Uint8Array(initialEntries);
  #bytes = Buffer.from(new ArrayBuffer(initialBytes));
  #entries = 0;
  #known = 0;
  #oddHashes = new Map<number, string>();
  /** Identities UTF-8 cannot spell exactly: last delivered hash (`undefined`: new in this run) and seen. */
  #oddIdentities = new Map<string, { hash: string | undefined; seen: boolean }>();
  #scratch = Buffer.allocUnsafe(256);
  /** The slot where `#find` found no entry for the scratch bytes. */
  #free = 0;
  #seeing = false;

  /** Identities known from earlier runs. */
  get known(): number {
    return this.#known;
  }

  /** Adds an identity delivered before with its hash (each identity once, all before the first `see`). */
  load(identity: string, hash: string): void {
    if (this.#seeing) throw new Error('the state is loaded before the run sees records');
    if (!wellFormed(identity)) {
      if (this.#oddIdentities.has(identity)) throw new Error(`identity ${identity} loaded twice`);
      this.#oddIdentities.set(identity, { hash, seen: false });
      this.#known++;
      return;
    }
    const length = this.#encode(identity);
    if (this.#find(length) !== -1) throw new Error(`identity ${identity} loaded twice`);
    const plain = wellFormed(hash);
    const entry = this.#add(length, plain ? Buffer.byteLength(hash) : 0, plain ? KNOWN : KNOWN | ODD_HASH);
    if (plain) this.#bytes.write(hash, this.#splits[entry]!, 'utf8');
    else this.#oddHashes.set(entry, hash);
    this.#known++;
  }

  /**
   * Marks `identity` seen in this run: `duplicate` when it was already, `unchanged` when `hash` is the
   * hash last delivered for it, `changed` otherwise (also a new identity).
   */
  see(identity: string, hash: string): Sighting {
    this.#seeing = true;
    if (!wellFormed(identity)) return this.#seeOdd(identity, hash);
    const length = this.#encode(identity);
    const entry = this.#find(length);
    if (entry === -1) {
      this.#add(length, 0, SEEN);
      return 'changed';
    }
    const flags = this.#flags[entry]!;
    if (flags & SEEN) return 'duplicate';
    this.#flags[entry] = flags | SEEN;
    return this.#sameHash(entry, flags, hash) ? 'unchanged' : 'changed';
  }

  /** Known identities this run has not seen, in no particular order. */
  unseen(): string[] {
    const identities: string[] = [];
    for (let entry = 0; entry < this.#entries; entry++) {
      if ((this.#flags[entry]! & (KNOWN | SEEN)) !== KNOWN) continue;
      identities.push(this.#bytes.toString('utf8', this.#starts[entry], this.#splits[entry]));
    }
    for (const [identity, { hash, seen }] of this.#oddIdentities) {
      if (hash !== undefined && !seen) identities.push(identity);
    }
    return identities;
  }

  #seeOdd(identity: string, hash: string): Sighting {
    const entry = this.#oddIdentities.get(identity);
    if (!entry) {
      this.#oddIdentities.set(identity, { hash: undefined, seen: true });
      return 'changed';
    }
    if (entry.seen) return 'duplicate';
    entry.seen = true;
    return entry.hash === hash ? 'unchanged' : 'changed';
  }

  #sameHash(entry: number, flags: number, hash: string): boolean {
    if (!(flags & KNOWN)) return false;
    if (flags & ODD_HASH) return this.#oddHashes.get(entry) === hash;
    if (!wellFormed(hash)) return false;
    const start = this.#splits[entry]!;
    const end = this.#starts[entry + 1]!;
    const length = this.#encode(hash);
    if (length !== end - start) return false;
    const bytes = this.#bytes;
    const scratch = this.#scratch;
    for (let i = 0; i < length; i++) if (bytes[start + i] !== scratch[i]) return false;
    return true;
  }

  /** Writes `text` as UTF-8 into the scratch buffer; returns its length in bytes. */
  #encode(text: string): number {
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    if (text.length * 3 > this.#scratch.length) this.#scratch = Buffer.allocUnsafe(text.length * 3);
    return this.#scratch.write(text, 0, 'utf8');
  }

  /** FNV-1a of `length` bytes of `bytes` from `start`. */
  #hash(bytes: Uint8Array, start: number, length: number): number {
    let h = 0x811c9dc5;
    for (let i = start; i < start + length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
    return h >>> 0;
  }

  /** Where entry's identity ends (its hash follows, when it is known). */
  #identityEnd(entry: number): number {
    return this.#flags[entry]! & KNOWN ? this.#splits[entry]! : this.#starts[entry + 1]!;
  }

  /** The entry whose identity is the first `length` scratch bytes, or -1 (then `#free` is its slot). */
  #find(length: number): number {
    const mask = this.#slots.length - 1;
    const scratch = this.#scratch;
    const bytes = this.#bytes;
    for (let slot = this.#hash(scratch, 0, length) & mask; ; slot = (slot + 1) & mask) {
      const stored = this.#slots[slot]!;
      if (stored === 0) {
        this.#free = slot;
        return -1;
      }
      const entry = stored - 1;
      const start = this.#starts[entry]!;
      if (this.#identityEnd(entry) - start !== length) continue;
      let i = 0;
      while (i < length && bytes[start + i] === scratch[i]) i++;
      if (i === length) return entry;
    }
  }

  /**
   * Appends an entry of the `length` scratch bytes (known: then room for `extra` bytes of its hash),
   * which `#find` just looked for in vain; returns its index.
   */
  #add(length: number, extra: number, flags: number): number {
    const entry = this.#entries;
    if (entry + 1 >= this.#flags.length) this.#growEntries();
    if (flags & KNOWN && entry >= this.#splits.length) {
      const size = Math.max(initialEntries, this.#splits.length * 2) * 4;
      this.#splits = new Uint32Array(resized(this.#splits.buffer, size));
    }
    const start = this.#starts[entry]!;
    const end = start + length + extra;
    if (end > 0xffffffff) throw new Error('the identities of this run take more than 4 GB');
    if (end > this.#bytes.length) {
      const size = Math.min(Math.max(end, this.#bytes.length * 2), 0xffffffff);
      this.#bytes = Buffer.from(resized(this.#bytes.buffer, size));
    }
    this.#scratch.copy(this.#bytes, start, 0, length);
    this.#starts[entry + 1] = end;
    this.#flags[entry] = flags;
    if (flags & KNOWN) this.#splits[entry] = start + length;
    this.#entries = entry + 1;
    this.#slots[this.#free] = entry + 1;
    if (this.#entries * 2 > this.#slots.length) this.#growSlots();
    return entry;
  }

  #growEntries(): void {
    const capacity = this.#flags.length * 2;
    this.#starts = new Uint32Array(resized(this.#starts.buffer, (capacity + 1) * 4));
    this.#flags = new Uint8Array(resized(this.#flags.buffer, capacity));
  }

  /** Doubles the table (kept at most half full, so probes stay short). */
  #growSlots(): void {
    const slots = this.#slots;
    this.#slots = new Int32Array(slots.length * 2);
    const mask = this.#slots.length - 1;
    for (const stored of slots) {
      if (stored === 0) continue;
      const start = this.#starts[stored - 1]!;
      let slot = this.#hash(this.#bytes, start, this.#identityEnd(stored - 1) - start) & mask;
      while (this.#slots[slot] !== 0) slot = (slot + 1) & mask;
      this.#slots[slot] = stored;
    }
    resized(slots.buffer, 0); // frees the old table now rather than at the next full collection
  }
}

/**
 * `buffer`'s bytes in a buffer of `size` bytes (zeros after them); `buffer` is detached, its memory
 * freed at once (`ArrayBuffer.prototype.transfer`, ES2024) rather than at the next full collection.
 */
function resized(buffer: ArrayBufferLike, size: number): ArrayBuffer {
  return (buffer as ArrayBuffer & { transfer(size: number): ArrayBuffer }).transfer(size);
}
