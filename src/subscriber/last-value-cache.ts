/**
 * The latest frame per instrument, kept by each worker from the ring so a new real-time subscriber starts
 * with current values. Each instrument owns one buffer, reused and grown only when a larger frame
 * arrives: updating costs a copy of the frame and nothing else. The ring cannot serve this itself,
 * since an idle symbol's last frame is overwritten long before anyone subscribes.
 */

interface Slot {
  bytes: Uint8Array;
  length: number;
  seq: number;
}

/** Bound on instruments tracked, so a publisher inventing symbols cannot grow a worker without limit. */
const MAX_INSTRUMENTS = 1_000_000;

export class LastValueCache {
  private readonly slots = new Map<number, Slot>();

  /** Records the frame at `bytes[offset…offset+length)` as the latest of `instrumentId`. */
  update(instrumentId: number, seq: number, bytes: Uint8Array, offset: number, length: number): void {
    let slot = this.slots.get(instrumentId);
    if (slot === undefined) {
      if (this.slots.size >= MAX_INSTRUMENTS) return;
      slot = { bytes: new Uint8Array(Math.max(128, length)), length: 0, seq: 0 };
      this.slots.set(instrumentId, slot);
    } else if (slot.bytes.length < length) {
      slot.bytes = new Uint8Array(length * 2);
    }
    slot.bytes.set(bytes.subarray(offset, offset + length));
    slot.length = length;
    slot.seq = seq;
  }

  /** The latest frame of an instrument (a view valid until its next update), or undefined. */
  get(instrumentId: number): Uint8Array | undefined {
    const slot = this.slots.get(instrumentId);
    return slot === undefined ? undefined : slot.bytes.subarray(0, slot.length);
  }

  /** Every cached frame, oldest seq first, as views valid until the next update. */
  all(): Uint8Array[] {
    return [...this.slots.values()].sort((a, b) => a.seq - b.seq).map((s) => s.bytes.subarray(0, s.length));
  }

  get size(): number {
    return this.slots.size;
  }
}
