/**
 * Counts per key shared by every thread of the daemon — connections per client IP now, per token subject
 * later — so a limit holds over all the socket workers, not per worker. A small open-addressing hash table
 * in a SharedArrayBuffer, guarded by one lock word: acquiring and releasing happen once per connection, off
 * the data path, so a lock held for a few dozen instructions costs nothing that matters.
 *
 * ```
 *   Int32 index 0        1        2 + 2i     3 + 2i
 *  +--------+--------+--------+--------+--------+--------+-----
 *  |  lock  |  used  | key 0  | count 0| key 1  | count 1| ...   (SLOTS pairs)
 *  +--------+--------+--------+--------+--------+--------+-----
 * ```
 * A key is the 32-bit FNV-1a hash of its text (0 stands for an empty slot, so a hash of 0 becomes 1). Two
 * texts with one hash share a count: a limit then holds for both together (rare: 32 bits). A slot whose
 * count drops to 0 is removed with a backward shift, so the table holds only keys that are in use.
 */

const LOCK = 0;
const USED = 1;
const HEADER = 2;
const UNLOCKED = 0;
const LOCKED = 1;
/** Spins before the lock waiter sleeps (the holder is a few dozen instructions from releasing it). */
const SPINS = 100;

export class SharedCounts {
  private readonly table: Int32Array;
  private readonly slots: number;

  /** A table of `slots` keys (a power of two) for {@link SharedCounts}, to hand to every thread. */
  static allocate(slots = 1 << 16): SharedArrayBuffer {
    if ((slots & (slots - 1)) !== 0 || slots < 2)
      throw new RangeError(`slots must be a power of two: ${slots}`);
    return new SharedArrayBuffer((HEADER + 2 * slots) * Int32Array.BYTES_PER_ELEMENT);
  }

  constructor(buffer: SharedArrayBuffer) {
    this.table = new Int32Array(buffer);
    this.slots = (this.table.length - HEADER) / 2;
  }

  /**
   * Adds one to the count of `key` unless it is already `limit` (or the table is full); says whether it
   * did. Each success must be paired with one {@link release}.
   */
  tryAcquire(key: string, limit: number): boolean {
    const h = hashOf(key);
    this.lock();
    try {
      const slot = this.find(h);
      if (slot >= 0) {
        const count = this.table[HEADER + 2 * slot + 1];
        if (count >= limit) return false;
        this.table[HEADER + 2 * slot + 1] = count + 1;
        return true;
      }
      if (limit < 1 || this.table[USED] >= this.slots - 1) return false;
      const free = -slot - 1;
      this.table[HEADER + 2 * free] = h;
      this.table[HEADER + 2 * free + 1] = 1;
      this.table[USED]++;
      return true;
    } finally {
      this.unlock();
    }
  }

  /** Takes back one {@link tryAcquire} of `key`. */
  release(key: string): void {
    const h = hashOf(key);
    this.lock();
    try {
      const slot = this.find(h);
      if (slot < 0) return;
      const at = HEADER + 2 * slot + 1;
      if (--this.table[at] <= 0) this.remove(slot);
    } finally {
      this.unlock();
    }
  }

  /** The current count of `key`. */
  count(key: string): number {
    this.lock();
    try {
      const slot = this.find(hashOf(key));
      return slot < 0 ? 0 : this.table[HEADER + 2 * slot + 1];
    } finally {
      this.unlock();
    }
  }

  /** The slot holding hash `h`, or −(free slot + 1) where it would go. */
  private find(h: number): number {
    const mask = this.slots - 1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const k = this.table[HEADER + 2 * i];
      if (k === h) return i;
      if (k === 0) return -i - 1;
    }
  }

  /** Empties `slot` and shifts later keys of its probe run back, so lookups never stop early. */
  private remove(slot: number): void {
    const mask = this.slots - 1;
    const t = this.table;
    let hole = slot;
    for (let i = (slot + 1) & mask; t[HEADER + 2 * i] !== 0; i = (i + 1) & mask) {
      const home = t[HEADER + 2 * i] & mask;
      // The key at i may fill the hole unless its home lies cyclically in (hole, i].
      const between = hole <= i ? home > hole && home <= i : home > hole || home <= i;
      if (between) continue;
      t[HEADER + 2 * hole] = t[HEADER + 2 * i];
      t[HEADER + 2 * hole + 1] = t[HEADER + 2 * i + 1];
      hole = i;
    }
    t[HEADER + 2 * hole] = 0;
    t[HEADER + 2 * hole + 1] = 0;
    t[USED]--;
  }

  private lock(): void {
    for (let spin = 0; Atomics.compareExchange(this.table, LOCK, UNLOCKED, LOCKED) !== UNLOCKED; spin++) {
      if (spin >= SPINS) Atomics.wait(this.table, LOCK, LOCKED, 1);
    }
  }

  private unlock(): void {
    Atomics.store(this.table, LOCK, UNLOCKED);
    Atomics.notify(this.table, LOCK, 1);
  }
}

function hashOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h === 0 ? 1 : h;
}
