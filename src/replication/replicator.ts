/**
 * The leader's replicator: follows the WAL as the single writer accepts groups (like the indexer, from the
 * files, so the writer's thread does no replication work), copies the frames into batches of at most
 * {@link MAX_BATCH_BYTES} and appends them to the stream, each fenced by the stream seq the previous one
 * gets (`Nats-Expected-Last-Sequence`) and named by its seqs (`Nats-Msg-Id`). Up to {@link WINDOW} batches
 * are in flight; JetStream acknowledges them in order, and each acknowledgement moves the replicated seq.
 *
 * A batch in flight behind another also expects that one's id as the stream's last
 * (`Nats-Expected-Last-Msg-Id`): if the one before failed because another node's claim took its place,
 * the stream seq alone would let the next one land after the claim, leaving a hole in the seqs.
 *
 * When a publish fails — a timeout, a lost connection, or the fence — the replicator lets the rest of the
 * window settle, reads the stream's last batch, and goes on from there: if this node published it, from
 * the seq after it (whatever of the window got in counts, the rest is sent again); if another node did,
 * this node no longer leads ({@link ReplicatorOptions.fenced}) and the replicator stops.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { frameLength, frameTsRecvApprox } from "../frame/codec.js";
import { openWalReader, type WalReader } from "../storage/index.js";
import { batchMsgId, lastSeqOf, MAX_BATCH_BYTES } from "./batch-layout.js";
import type { NatsLink } from "./nats-link.js";

/** Batches in flight at most: enough to cover a round trip to an R3 stream at full ingest. */
const WINDOW = 32;
/** WAL read buffer: a batch read is at most this (two full stream batches). */
const READ_BUFFER_BYTES = 2 * MAX_BATCH_BYTES;
/** Longest pause between attempts to reach the stream again after a failure. */
const MAX_RETRY_MS = 2000;

/** What the replicator is started with. */
export interface ReplicatorOptions {
  link: NatsLink;
  walDir: string;
  /** This node's id, in every batch's leader header. */
  leader: string;
  /** The first seq to publish. */
  fromSeq: number;
  /** The stream seq of the stream's last message (this node's claim): the first fence. */
  afterStreamSeq: number;
  /** The highest seq the WAL has accepted: nothing past it is read. */
  writtenSeq(): number;
  /** Resolves when the writer may have accepted more (or after a short while). */
  wake(): Promise<void>;
  /** The stream holds every seq up to `seq`; `pendingSinceNs` is the ts_recv of the oldest seq it lacks (0: none). */
  progress(seq: number, pendingSinceNs: number): void;
  /** Another node appended to the stream (`by`, its id): this one no longer leads. */
  fenced(by: string): void;
  /** A publish failed and the replicator starts again from `seq`. */
  retrying(seq: number, err: unknown): void;
}

/** A batch published and not yet acknowledged. */
interface InFlight {
  lastSeq: number;
  /** ts_recv of its first frame. */
  firstTsNs: number;
  settled: boolean;
  error: unknown;
  done: Promise<void>;
}

export class Replicator {
  private reader: WalReader;
  private readonly window: InFlight[] = [];
  /** The stream seq the next batch expects to follow. */
  private expected: number;
  /** The id of the batch the next one follows, when it is this replicator's own since its last restart. */
  private lastMsgId: string | undefined;
  /** The highest seq the stream holds (as acknowledged). */
  private replicated: number;
  private running = true;
  private idle = true;

  constructor(private readonly o: ReplicatorOptions) {
    this.expected = o.afterStreamSeq;
    this.replicated = o.fromSeq - 1;
    this.reader = this.openReader();
  }

  /** The highest seq the stream holds. */
  get replicatedSeq(): number {
    return this.replicated;
  }

  /** Whether nothing is in flight and nothing accepted waits to be read. */
  get caughtUp(): boolean {
    return this.idle && this.window.length === 0 && this.replicated >= this.o.writtenSeq();
  }

  /** Replicates until {@link stop} (or until fenced). */
  async run(): Promise<void> {
    while (this.running) {
      this.fill();
      if (this.window.length === 0) {
        await this.o.wake();
        continue;
      }
      await Promise.race([this.window[0].done, this.o.wake()]);
      if (!(await this.settle())) return;
    }
  }

  /** Stops after the current step; batches in flight may still land. */
  stop(): void {
    this.running = false;
  }

  /** Publishes what the WAL accepted, up to the window. */
  private fill(): void {
    const bound = this.o.writtenSeq();
    this.idle = true;
    while (this.window.length < WINDOW) {
      const batch = this.reader.nextSync(bound);
      if (batch === null) return;
      this.idle = false;
      let from = 0;
      while (from < batch.count) {
        // As many frames as fit one stream batch (at least one: a frame always fits).
        let bytes = 0;
        let to = from;
        while (to < batch.count) {
          const len = frameLength(batch.bytes, batch.offsets[to]);
          if (to > from && bytes + len > MAX_BATCH_BYTES) break;
          bytes += len;
          to++;
        }
        const payload = new Uint8Array(bytes);
        for (let i = from, at = 0; i < to; i++) {
          const off = batch.offsets[i];
          const len = frameLength(batch.bytes, off);
          payload.set(batch.bytes.subarray(off, off + len), at);
          at += len;
        }
        this.publish(
          payload,
          batch.firstSeq + from,
          to - from,
          frameTsRecvApprox(batch.bytes, batch.offsets[from]),
        );
        from = to;
      }
    }
  }

  private publish(payload: Uint8Array, firstSeq: number, count: number, firstTsNs: number): void {
    const entry: InFlight = {
      lastSeq: firstSeq + count - 1,
      firstTsNs,
      settled: false,
      error: undefined,
      done: undefined!,
    };
    const fence = { lastSeq: this.expected++, lastMsgId: this.lastMsgId };
    this.lastMsgId = batchMsgId(firstSeq, count);
    entry.done = this.o.link.publish(payload, { firstSeq, count, leader: this.o.leader }, fence).then(
      () => {
        entry.settled = true;
      },
      (err: unknown) => {
        entry.settled = true;
        entry.error = err ?? new Error("publish failed");
      },
    );
    this.window.push(entry);
  }

  /** Takes the acknowledged batches off the window; on a failure, starts again from the stream's end. */
  private async settle(): Promise<boolean> {
    const w = this.window;
    let failed: unknown;
    while (w.length > 0 && w[0].settled) {
      const e = w.shift()!;
      if (e.error !== undefined) {
        failed = e.error;
        break;
      }
      this.replicated = e.lastSeq;
    }
    if (failed !== undefined) return this.restart(failed);
    this.o.progress(this.replicated, w.length > 0 ? w[0].firstTsNs : 0);
    return true;
  }

  /**
   * After a failed publish: lets the window settle, then reads the stream's last batch until the stream
   * answers. Ours: continue after it. Another node's: fenced. False when the replicator stops.
   */
  private async restart(err: unknown): Promise<boolean> {
    await Promise.all(this.window.map((e) => e.done));
    for (const e of this.window.splice(0)) if (e.error === undefined) this.replicated = e.lastSeq;
    for (let delay = 100; this.running; delay = Math.min(MAX_RETRY_MS, delay * 2)) {
      try {
        const last = await this.o.link.lastBatch();
        if (last !== null && last.leader !== this.o.leader) {
          this.o.fenced(last.leader);
          this.running = false;
          return false;
        }
        if (last !== null) {
          this.replicated = Math.max(this.replicated, lastSeqOf(last));
          this.expected = last.streamSeq;
        } else {
          this.expected = (await this.o.link.extent()).lastSeq;
        }
        break;
      } catch {
        await sleep(delay);
      }
    }
    this.o.retrying(this.replicated + 1, err);
    // The stream's last id may be unknown to a restarted server: the next batch is fenced by seq alone.
    this.lastMsgId = undefined;
    this.reader.close();
    this.reader = this.openReader();
    this.o.progress(this.replicated, 0);
    return this.running;
  }

  private openReader(): WalReader {
    return openWalReader(this.o.walDir, this.replicated + 1, { bufferBytes: READ_BUFFER_BYTES });
  }

  /** Closes the WAL reader. */
  close(): void {
    this.reader.close();
  }
}
