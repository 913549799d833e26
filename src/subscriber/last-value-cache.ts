/**
 * The latest frame per symbol, kept by each worker from the ring so a new real-time subscriber starts with
 * current values (and used per subscriber by `conflate`: the latest pending frame per symbol). Keyed by the
 * symbol key of the frame's own symbol bytes, with the bytes compared, so two symbols whose keys collide —
 * or that a publisher gave one `instrument_id` — never overwrite each other. Each symbol owns one buffer,
 * reused and grown only when a larger frame arrives: updating costs a copy of the frame and nothing else.
 * The ring cannot serve this itself, since an idle symbol's last frame is overwritten long before anyone
 * subscribes.
 */
import { frameSymbolEquals, frameSymbolSpan } from "../frame/codec.js";

interface Slot {
  bytes: Uint8Array;
  length: number;
  seq: number;
  /** The next symbol with the same key. */
  next: Slot | undefined;
}

/** Bound on symbols tracked, so a publisher inventing symbols cannot grow a worker without limit. */
const MAX_SYMBOLS = 1_000_000;

export class LastValueCache {
  private readonly slots = new Map<number, Slot>();
  private count = 0;
  private readonly span = new Int32Array(2);

  /**
   * Records the frame at `bytes[offset…offset+length)` as the latest of its symbol, whose key is `key`.
   * Returns false when the cache is full and the symbol is new (it is not kept).
   */
  update(key: number, seq: number, bytes: Uint8Array, offset: number, length: number): boolean {
    let slot = this.slots.get(key);
    while (slot !== undefined && !frameSymbolEquals(slot.bytes, 0, bytes, offset)) slot = slot.next;
    if (slot === undefined) {
      if (this.count >= MAX_SYMBOLS) return false;
      slot = { bytes: new Uint8Array(Math.max(128, length)), length: 0, seq: 0, next: this.slots.get(key) };
      this.slots.set(key, slot);
      this.count++;
    } else if (slot.bytes.length < length) {
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
    const slots: Slot[] = [];
    for (const head of this.slots.values()) for (let s: Slot | undefined = head; s; s = s.next) slots.push(s);
    return slots.sort((a, b) => a.seq - b.seq).map((s) => s.bytes.subarray(0, s.length));
  }

  /** Forgets every symbol. */
  clear(): void {
    this.slots.clear();
    this.count = 0;
  }

  /** Symbols held. */
  get size(): number {
    return this.count;
  }
}
