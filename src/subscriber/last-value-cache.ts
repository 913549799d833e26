/**
 * The latest frame per symbol and kind, kept by each worker from the ring so a new real-time subscriber
 * starts with current values (and used per subscriber by `conflate`: the latest pending frame per symbol and
 * kind). A kind is a frame type, and for bars the interval too: the last trade, the last quote, the last
 * book update and the last bar of each interval are kept side by side, so a 1-minute bar never hides the
 * last quote from a subscriber that asked for quotes. Keyed by the symbol key of the frame's own symbol
 * bytes, with the bytes compared, so two symbols whose keys collide — or that a publisher gave one
 * `instrument_id` — never overwrite each other. Each symbol owns one buffer,
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
import {
  Body,
  frameBarIntervalNs,
  frameBodyType,
  frameHasSymbol,
  frameSeq,
  frameSymbolEquals,
} from "../frame/codec.js";
import type { FrameFilter } from "./frame-filter.js";

/** The last values a new subscription (or `GET /v1/last`) starts with, and whether it may lack some. */
export interface LastValues {
  frames: Uint8Array[];
  partial: boolean;
}

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
  /** The kind: the frame's body type, and a bar's interval (0 for other types). */
  body: number;
  interval: number;
  /** The next slot with the same key (another kind, or another symbol). */
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
    const body = frameBodyType(bytes, offset);
    const interval = body === Body.Bar ? frameBarIntervalNs(bytes, offset) : 0;
    let slot = this.slots.get(key);
    while (
      slot !== undefined &&
      !(slot.body === body && slot.interval === interval && frameSymbolEquals(slot.bytes, 0, bytes, offset))
    )
      slot = slot.next;
    if (slot === undefined) {
      const size = Math.max(MIN_SLOT_BYTES, length);
      if (!this.reserve(size + SLOT_OVERHEAD)) return false;
      slot = {
        bytes: new Uint8Array(size),
        length: 0,
        seq: 0,
        key,
        body,
        interval,
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

  /**
   * Appends to `out` the latest frame of each kind of the symbol `symbol` (UTF-8 bytes) with key `key`, oldest
   * seq first — views valid until their next update.
   */
  collectSymbol(key: number, symbol: Uint8Array, out: Uint8Array[]): void {
    const start = out.length;
    for (let slot = this.slots.get(key); slot !== undefined; slot = slot.next) {
      if (frameHasSymbol(slot.bytes, 0, symbol)) out.push(slot.bytes.subarray(0, slot.length));
    }
    if (out.length - start > 1) {
      const mine = out.splice(start).sort((a, b) => frameSeq(a, 0) - frameSeq(b, 0));
      out.push(...mine);
    }
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

  /**
   * The latest frame of each kind of the symbols `filter` names (every symbol's when it names none) that it
   * takes, oldest seq first, as views valid until their next update — at most `budget` bytes of them, and no
   * more of the cache walked than that, so a request for last values never makes the worker send or scan
   * more at once than one socket may hold (bench/soak: a `*` subscribe over 100K cached symbols held its
   * worker for 0.5 s). `partial` when some were left out, or when the cache dropped symbols to stay in its
   * budget: the client learns it may lack some.
   */
  lastValues(filter: FrameFilter, budget: number): LastValues {
    const frames: Uint8Array[] = [];
    let complete: boolean;
    if (filter.symbols === null) complete = this.collect(frames, budget);
    else {
      complete = true;
      let used = 0;
      outer: for (const [key, symbols] of filter.symbols) {
        for (const s of symbols) {
          const at = frames.length;
          this.collectSymbol(key, s, frames);
          for (let i = at; i < frames.length; i++) used += frames[i].length;
          if (used > budget) {
            frames.length = at;
            complete = false;
            break outer;
          }
        }
      }
    }
    const kept = frames.filter((f) => filter.matches(f, 0)).sort((a, b) => frameSeq(a, 0) - frameSeq(b, 0));
    return { frames: kept, partial: !complete || this.evicted > 0 };
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
