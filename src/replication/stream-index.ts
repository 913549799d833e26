/**
 * Finds things in the replicated log by the seq of a frame rather than by stream seq. Batches hold
 * consecutive seqs in stream order (batch-layout.ts), so the batch holding a seq is found by a binary
 * search over stream seqs: about log2(messages) reads of single messages, done when a node joins, never
 * per frame.
 */
import { frameLength } from "../frame/codec.js";
import { lastSeqOf } from "./batch-layout.js";
import { ReplicationError } from "./errors.js";
import type { NatsLink, StoredBatch } from "./nats-link.js";

/** Where a seq stands against the stream. */
export type Located =
  /** The stream holds it, in `batch`. */
  | { kind: "held"; batch: StoredBatch }
  /** It is past the stream's last frame (`lastSeq`, 0 when the stream holds none); the next message will be `streamSeq`. */
  | { kind: "after"; lastSeq: number; streamSeq: number }
  /** The stream no longer holds it (retention): its oldest frame is `firstSeq`, in message `streamSeq`. */
  | { kind: "before"; firstSeq: number; streamSeq: number };

/** A search aborted by messages ageing out under it is tried again this many times. */
const ATTEMPTS = 3;

export class StreamIndex {
  constructor(private readonly link: NatsLink) {}

  /** The stream's name. */
  get stream(): string {
    return this.link.stream;
  }

  /** Where frame `seq` is. */
  async locate(seq: number): Promise<Located> {
    for (let attempt = 1; ; attempt++) {
      const found = await this.tryLocate(seq);
      if (found !== null) return found;
      if (attempt === ATTEMPTS) {
        throw new ReplicationError(this.link.stream, `messages vanished while looking for seq ${seq}`);
      }
    }
  }

  /** The bytes of frame `seq`, or null when the stream does not hold it. */
  async frame(seq: number): Promise<Uint8Array | null> {
    const at = await this.locate(seq);
    if (at.kind !== "held") return null;
    const { data, firstSeq } = at.batch;
    let off = 0;
    for (let s = firstSeq; s < seq; s++) off += frameLength(data, off);
    return data.slice(off, off + frameLength(data, off));
  }

  /** One search; null when a message it needed was gone (aged out meanwhile). */
  private async tryLocate(seq: number): Promise<Located | null> {
    const extent = await this.link.extent();
    const last = extent.messages === 0 ? null : await this.link.lastBatch();
    if (last === null) return { kind: "after", lastSeq: 0, streamSeq: extent.lastSeq + 1 };
    if (seq > lastSeqOf(last))
      return { kind: "after", lastSeq: lastSeqOf(last), streamSeq: last.streamSeq + 1 };
    let lo = extent.firstSeq;
    let found = await this.link.batchAt(lo);
    if (found === null) return null;
    if (seq < found.firstSeq) return { kind: "before", firstSeq: found.firstSeq, streamSeq: lo };
    // Invariant: batch `lo` starts at or before seq; every batch after `hi` starts after it.
    let hi = last.streamSeq;
    if (last.firstSeq <= seq) return { kind: "held", batch: last };
    hi--;
    while (lo < hi) {
      const mid = lo + Math.ceil((hi - lo) / 2);
      const b = await this.link.batchAt(mid);
      if (b === null) return null;
      if (b.firstSeq <= seq) {
        lo = mid;
        found = b;
      } else hi = mid - 1;
    }
    return { kind: "held", batch: found };
  }
}
