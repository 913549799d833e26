/**
 * A follower's copy of the replicated log: an ordered consumer of the stream whose batches go, frames and
 * seqs as the leader wrote them, through the writer into this node's WAL, ring and store — so every feed
 * serves them as a leader would. Runs on the main thread (the single writer's; a follower takes no ingest).
 *
 * Batches arrive in order. One that holds only seqs the node has is passed over, after checking that the
 * node's frames are the stream's (they may not be: a former leader's tail that never reached the stream;
 * the node must then restart, which cuts that tail). One that starts past the node's next seq means the
 * stream lost what the node needs (retention): following stops, loudly. Every frame is verified before it
 * is written — the stream is a trust boundary like any publisher — and must carry the seq its place in the
 * batch gives it. The batches read in one turn of the event loop are committed as one WAL group.
 */
import { setImmediate } from "node:timers";
import type { TickringError } from "../errors.js";
import { frameLength, frameSeq, frameTsRecvApprox } from "../frame/codec.js";
import { FrameVerifier } from "../frame/verify.js";
import { openWalReader } from "../storage/index.js";
import { nowNs } from "../clock.js";
import { lastSeqOf } from "./batch-layout.js";
import { ReplicationError } from "./errors.js";
import type { Following, NatsLink, StoredBatch } from "./nats-link.js";

/** Where a follower writes: the daemon's single writer. */
export interface ReplicaSink {
  /** The highest seq this node holds. */
  lastSeq(): number;
  /** Appends frames that carry their seqs, `firstSeq` on. */
  appendReplicated(frames: Uint8Array, count: number, firstSeq: number): number;
  /** Writes what was appended as one WAL group and publishes it; the error that refused it, if any. */
  commit(): TickringError | undefined;
}

/** What a follower tells the node. */
export interface FollowerEvents {
  /** Frames up to `seq` were committed. */
  applied(seq: number): void;
  /** Following stopped on `err`: a gap, a frame that does not verify, a divergent history, a failed WAL. */
  failed(err: unknown): void;
}

/** The stream holds frames this node has under the same seqs but with other bytes. */
export class DivergedError extends ReplicationError {
  override name = "DivergedError";
}

export class StreamFollower {
  /** Stream seq of the last message applied or passed over. */
  position: number;
  /** The last frame seq the stream is known to hold. */
  streamLastSeq = 0;
  /** Messages in the stream after the last one read, when it was read. */
  pendingMessages = 0;
  /** ms from the leader's ts_recv of the last frame applied to its commit here (clocks of two machines). */
  lagMs = 0;
  private following: Following | undefined;
  private commitScheduled = false;
  private stopped = false;
  private lastTsRecvNs = 0;
  private readonly verifier = new FrameVerifier();
  private readonly waiters: { streamSeq: number; resolve: () => void; reject: (e: unknown) => void }[] = [];
  private failure: unknown;

  constructor(
    private readonly link: NatsLink,
    private readonly sink: ReplicaSink,
    private readonly walDir: string,
    private readonly events: FollowerEvents,
    fromStreamSeq: number,
  ) {
    this.position = fromStreamSeq - 1;
  }

  /** Starts reading from the stream seq given at construction. */
  async start(): Promise<void> {
    this.following = await this.link.follow(this.position + 1, this.onBatch, (err) => this.fail(err));
    if (this.stopped) this.following.stop();
  }

  /** Resolves once every message up to `streamSeq` is applied (and committed), rejects if following fails. */
  reached(streamSeq: number): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.position >= streamSeq && !this.commitScheduled) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ streamSeq, resolve, reject }));
  }

  /** Stops reading; what was appended is committed first. */
  stop(): void {
    this.stopped = true;
    this.following?.stop();
    if (this.commitScheduled) this.commit();
  }

  private readonly onBatch = (b: StoredBatch, pending: number): void => {
    if (this.stopped) return;
    this.pendingMessages = pending;
    const last = this.sink.lastSeq();
    const end = lastSeqOf(b);
    if (b.firstSeq > last + 1) {
      throw new ReplicationError(
        this.link.stream,
        `this node ends at seq ${last} but the stream's next batch starts at ${b.firstSeq} (message ${b.streamSeq}): ` +
          "the stream no longer holds what lies between; seed this node from a snapshot of the leader",
      );
    }
    const skip = Math.min(b.count, last + 1 - b.firstSeq);
    if (skip > 0) this.checkHeld(b, skip);
    if (end > last) this.append(b, skip);
    this.position = b.streamSeq;
    this.streamLastSeq = Math.max(this.streamLastSeq, end);
    if (!this.commitScheduled) this.settleWaiters();
  };

  /** Verifies frames `skip…` of `b` and appends them; the commit follows in this turn of the loop. */
  private append(b: StoredBatch, skip: number): void {
    const { data } = b;
    let start = 0;
    for (let i = 0; i < skip; i++) start += frameLength(data, start);
    let off = start;
    let lastFrame = start;
    for (let i = skip; i < b.count; i++) {
      if (data.length - off < 4 || off + frameLength(data, off) > data.length) {
        throw new ReplicationError(
          this.link.stream,
          `message ${b.streamSeq} is shorter than its ${b.count} frames`,
        );
      }
      const len = frameLength(data, off);
      this.verifier.verify(data, off, len);
      if (frameSeq(data, off) !== b.firstSeq + i) {
        throw new ReplicationError(
          this.link.stream,
          `message ${b.streamSeq}: frame ${i} carries seq ${frameSeq(data, off)}, its place says ${b.firstSeq + i}`,
        );
      }
      lastFrame = off;
      off += len;
    }
    if (off !== data.length) {
      throw new ReplicationError(
        this.link.stream,
        `message ${b.streamSeq} has bytes after its ${b.count} frames`,
      );
    }
    this.sink.appendReplicated(data.subarray(start, off), b.count - skip, b.firstSeq + skip);
    this.lastTsRecvNs = frameTsRecvApprox(data, lastFrame);
    if (!this.commitScheduled) {
      this.commitScheduled = true;
      setImmediate(() => this.commit());
    }
  }

  /** The node holds frames `firstSeq…firstSeq + count - 1` of `b` already: they must be the same bytes. */
  private checkHeld(b: StoredBatch, count: number): void {
    const reader = openWalReader(this.walDir, b.firstSeq, { bufferBytes: 4 << 20 });
    try {
      let off = 0;
      for (let i = 0; i < count;) {
        const batch = reader.nextSync(b.firstSeq + count - 1);
        if (batch === null) break;
        for (let k = 0; k < batch.count; k++, i++) {
          const at = batch.offsets[k];
          const len = frameLength(batch.bytes, at);
          if (Buffer.compare(batch.bytes.subarray(at, at + len), b.data.subarray(off, off + len)) !== 0) {
            throw new DivergedError(
              this.link.stream,
              `seq ${b.firstSeq + i} differs here and in message ${b.streamSeq} of the stream`,
            );
          }
          off += len;
        }
      }
    } finally {
      reader.close();
    }
  }

  private commit(): void {
    if (!this.commitScheduled) return;
    this.commitScheduled = false;
    const refused = this.sink.commit();
    if (refused !== undefined) {
      this.fail(refused);
      return;
    }
    this.lagMs = Math.max(0, (Number(nowNs()) - this.lastTsRecvNs) / 1e6);
    this.events.applied(this.sink.lastSeq());
    this.settleWaiters();
  }

  private settleWaiters(): void {
    const w = this.waiters;
    let kept = 0;
    for (let i = 0; i < w.length; i++) {
      if (w[i].streamSeq <= this.position) w[i].resolve();
      else w[kept++] = w[i];
    }
    w.length = kept;
  }

  private fail(err: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = err;
    this.stopped = true;
    this.following?.stop();
    // Frames appended before the failure are whole and verified: keep them.
    if (this.commitScheduled) {
      this.commitScheduled = false;
      this.sink.commit();
    }
    for (const w of this.waiters.splice(0)) w.reject(err);
    this.events.failed(err);
  }
}
