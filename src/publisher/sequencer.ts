/**
 * The sequencer: the single writer. It gives each frame the next seq and its ts_recv, appends it to the
 * WAL, then copies the same bytes into the ring. `commit()` writes the WAL group and only then publishes
 * the ring, so nothing reaches a subscriber that the WAL has not accepted (see src/storage/wal/wal.ts for
 * what "accepted" guarantees under each fsync policy).
 */
import { nowNs } from "../clock.js";
import { TickringError } from "../errors.js";
import { FrameEncoder, frameLength, frameSeq, stampFrame, type Tick } from "../frame/codec.js";

/** What the sequencer needs of the WAL. */
export interface WalSink {
  /** Highest seq appended (after a failed write: the highest written). */
  readonly lastSeq: number;
  append(frame: Uint8Array, seq: number): void;
  write(): void;
  /** Drops the group appended since the last write. */
  discardPending(): void;
}

/** What the sequencer needs of the ring. */
export interface RingSink {
  append(frame: Uint8Array): void;
  publish(): void;
  /** Drops what was appended since the last publish. */
  discard(): void;
}

export class Sequencer {
  private seq: number;
  private readonly encoder = new FrameEncoder();

  /** @param lastSeq the highest seq already in the WAL (0 for an empty one). */
  constructor(
    private readonly wal: WalSink,
    private readonly ring: RingSink,
    lastSeq: number,
  ) {
    this.seq = lastSeq;
  }

  /** The highest seq assigned. */
  get lastSeq(): number {
    return this.seq;
  }

  /**
   * Sequences `count` frames encoded by an ingest edge (see IngestDecoder), stamping them in place.
   * Returns the last seq assigned. Call {@link commit} to make them visible.
   *
   * Every frame is stamped and its seq read back before any reaches the WAL: the ingest edge verified
   * that stamping overwrites nothing else, and this check makes sure no frame slips a seq past that (one
   * that did would hand every subscriber a wrong seq). On a mismatch it throws BAD_FRAME and keeps
   * nothing of the message: no seq is consumed and neither the WAL nor the ring sees a frame of it.
   */
  appendEncoded(frames: Uint8Array, count: number): number {
    const view = new DataView(frames.buffer, frames.byteOffset, frames.byteLength);
    const tsRecv = nowNs();
    const first = this.seq + 1;
    for (let i = 0, off = 0; i < count; i++) {
      stampFrame(frames, view, off, first + i, tsRecv);
      const read = frameSeq(frames, off);
      if (read !== first + i) {
        throw new TickringError(
          "BAD_FRAME",
          `frame ${i} of the message reads back seq ${read} after stamping seq ${first + i}: refused before the WAL`,
        );
      }
      off += frameLength(frames, off);
    }
    return this.appendFrames(frames, count, first);
  }

  /** Sequences ticks from this thread (the embedding API, the demo feed). Call {@link commit} after. */
  appendTicks(ticks: readonly Tick[]): number {
    const tsRecv = nowNs();
    try {
      for (let i = 0; i < ticks.length; i++) {
        const seq = ++this.seq;
        const frame = this.encoder.encode(ticks[i], BigInt(seq), tsRecv);
        this.wal.append(frame, seq);
        this.ring.append(frame);
      }
    } catch (err) {
      this.abandon();
      throw err;
    }
    return this.seq;
  }

  /**
   * Appends `count` frames that already carry their seqs, `firstSeq` on (a follower's copy of its leader's
   * log, src/replication): nothing is stamped, so every node holds the same bytes under the same seqs. The
   * WAL refuses a seq that does not follow its last one. Call {@link commit} to make them visible. When an
   * append fails, the group is dropped as in {@link commit}: a follower appends nothing else meanwhile.
   */
  appendStamped(frames: Uint8Array, count: number, firstSeq: number): number {
    return this.appendFrames(frames, count, firstSeq);
  }

  /** Appends `count` stamped frames, `firstSeq` on, to the WAL and the ring; returns the last seq. */
  private appendFrames(frames: Uint8Array, count: number, firstSeq: number): number {
    try {
      for (let i = 0, off = 0; i < count; i++) {
        const len = frameLength(frames, off);
        const frame = frames.subarray(off, off + len);
        this.wal.append(frame, firstSeq + i);
        this.seq = firstSeq + i;
        this.ring.append(frame);
        off += len;
      }
    } catch (err) {
      // A roll inside an append could not write (the WAL undid the group), or a seq did not follow.
      this.abandon();
      throw err;
    }
    return this.seq;
  }

  /**
   * Writes the WAL group, then publishes the ring up to the same frame. When the write fails (a full disk),
   * the WAL has dropped the group; so does the ring, and the seqs it took are handed out again — nothing of
   * them reached a subscriber or an ack.
   */
  commit(): void {
    try {
      this.wal.write();
    } catch (err) {
      this.abandon();
      throw err;
    }
    this.ring.publish();
  }

  /** Drops everything appended since the last commit, in the WAL and the ring, and takes its seqs back. */
  abandon(): void {
    this.wal.discardPending();
    this.ring.discard();
    this.seq = this.wal.lastSeq;
  }
}
