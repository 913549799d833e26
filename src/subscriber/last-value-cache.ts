/**
 * The latest frame per symbol, kept by each worker from the ring so a new real-time subscriber starts with
 * current values (and used per subscriber by `conflate`: the latest pending frame per symbol). Keyed by the
 * symbol key of the frame's own symbol bytes, with the bytes compared, so two symbols whose keys collide —
 * or that a publisher gave one `instrument_id` — never overwrite each other. Each symbol owns one buffer,
 * reused and grown only when a larger frame arrives: updating costs a copy of the frame and nothing else.
 * The ring cannot serve this itself, since an idle symbol's last frame is overwritten long before anyone
 * subscribes.
 *
 * Memory is bounded by a {@link ByteBudget}, which several caches may share (every conflating subscriber
 * of a worker draws on one). When it is spent, a cache made with `"evict"` drops a symbol that has not
 * ticked for long — the oldest seq among a few sampled ones, as Redis approximates LRU, so no list is kept
 * in seq order on the hot path — and counts it in {@link LastValueCache.evicted}; one made with `"refuse"`
 * keeps no new symbol and `update` says so.
 */
import { frameSymbolEquals, frameSymbolSpan } from "../frame/codec.js";

/** Bytes a cache (or several) may hold; `used` is what they hold now. */
export interface ByteBudget {
  readonly limit: number;
  used: number;
}

interface Slot {
  bytes: Uint8Array;
  length: number;
  seq: number;
  key: number;
  /** The next symbol with the same key. */
  next: Slot | undefined;
  /** Index in the cache's slot list (for sampling and O(1) removal). */
  at: number;
}

/** What a symbol costs beyond its frame buffer: the slot object, its Map entry and list entry. */
const SLOT_OVERHEAD = 120;
/** Symbols sampled to choose one to evict. */
const EVICTION_SAMPLES = 8;
const MIN_SLOT_BYTES = 128;

export class LastValueCache {
  private readonly slots = new Map<number, Slot>();
  private readonly list: Slot[] = [];
  private readonly span = new Int32Array(2);
  /** Symbols dropped to stay within the budget, since creation. */
  evicted = 0;

  constructor(
    private readonly budget: ByteBudget = { limit: Number.POSITIVE_INFINITY, used: 0 },
    private readonly whenFull: "evict" | "refuse" = "evict",
  ) {}

  /**
   * Records the frame at `bytes[offset…offset+length)` as the latest of its symbol, whose key is `key`.
   * Returns false when the budget is spent and the symbol could not be kept (`"refuse"` caches only).
   */
  update(key: number, seq: number, bytes: Uint8Array, offset: number, length: number): boolean {
    let slot = this.slots.get(key);
    while (slot !== undefined && !frameSymbolEquals(slot.bytes, 0, bytes, offset)) slot = slot.next;
    if (slot === undefined) {
      const size = Math.max(MIN_SLOT_BYTES, length);
      if (!this.reserve(size + SLOT_OVERHEAD)) return false;
      slot = {
        bytes: new Uint8Array(size),
        length: 0,
        seq: 0,
        key,
        next: this.slots.get(key),
        at: this.list.length,
      };
      this.slots.set(key, slot);
      this.list.push(slot);
    } else if (slot.bytes.length < length) {
      if (!this.reserve(length * 2 - slot.bytes.length)) return false;
      slot.bytes = new Uint8Array(length * 2);
    }
    slot.bytes.set(bytes.subarray(offset, offset + length));
    slot.length = length;
    slot.seq = seq;
    return true;
  }

  /** The latest frame of the symbol `symbol` (UTF-8 bytes) with key `key` — a view valid until its next update. */
  get(key: number, symbol: Uint8Array): Uint8Array | undefined {
    for (let slot = this.slots.get(key); slot !== undefined; slot = slot.next) {
      frameSymbolSpan(slot.bytes, 0, this.span);
      if (this.span[1] !== symbol.length) continue;
      let i = 0;
      while (i < symbol.length && slot.bytes[this.span[0] + i] === symbol[i]) i++;
      if (i === symbol.length) return slot.bytes.subarray(0, slot.length);
    }
    return undefined;
  }

  /** Every cached frame, oldest seq first, as views valid until the next update. */
  all(): Uint8Array[] {
    return [...this.list].sort((a, b) => a.seq - b.seq).map((s) => s.bytes.subarray(0, s.length));
  }

  /**
   * Up to `budget` bytes of cached frames (views valid until the next update), in no particular order, into
   * `out`; true when that was all of them. The work is bounded by the budget, not by the cache's size.
   */
  collect(out: Uint8Array[], budget: number): boolean {
    let used = 0;
    for (const s of this.list) {
      if (used + s.length > budget) return false;
      out.push(s.bytes.subarray(0, s.length));
      used += s.length;
    }
    return true;
  }

  /** Forgets every symbol and gives its bytes back to the budget. */
  clear(): void {
    for (const s of this.list) this.budget.used -= s.bytes.length + SLOT_OVERHEAD;
    this.slots.clear();
    this.list.length = 0;
  }

  /** Symbols held. */
  get size(): number {
    return this.list.length;
  }

  /** Takes `bytes` from the budget, evicting symbols first if this cache may; false when it cannot. */
  private reserve(bytes: number): boolean {
    const b = this.budget;
    while (b.used + bytes > b.limit) {
      if (this.whenFull === "refuse" || this.list.length === 0) return false;
      this.evictOne();
    }
    b.used += bytes;
    return true;
  }

  private evictOne(): void {
    const list = this.list;
    let victim = list[(Math.random() * list.length) | 0];
    for (let i = 1; i < EVICTION_SAMPLES && i < list.length; i++) {
      const s = list[(Math.random() * list.length) | 0];
      if (s.seq < victim.seq) victim = s;
    }
    const head = this.slots.get(victim.key)!;
    if (head === victim) {
      if (victim.next === undefined) this.slots.delete(victim.key);
      else this.slots.set(victim.key, victim.next);
    } else {
      let prev = head;
      while (prev.next !== victim) prev = prev.next!;
      prev.next = victim.next;
    }
    const last = list.pop()!;
    if (last !== victim) {
      list[victim.at] = last;
      last.at = victim.at;
    }
    this.budget.used -= victim.bytes.length + SLOT_OVERHEAD;
    this.evicted++;
  }
}
