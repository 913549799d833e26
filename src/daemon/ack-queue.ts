/**
 * Acks waiting for durability. A publisher's message is acked only once every seq of it is durable under
 * the fsync policy; messages are sequenced in arrival order, so the queue is in seq order and each durable
 * advance releases a prefix of it. Embedding-API callers wait here too (a promise per call).
 *
 * When the WAL fails, nothing still waiting can be called durable: every entry is answered with the error,
 * in order, so a publisher's replies never go missing and never overtake each other.
 */
import { type ErrorBody, errorBody, type IncidentLogger } from "../errors.js";

/** A publisher message waiting for its seqs to be durable: who to answer, and up to which seq. */
interface PendingAck {
  worker: number;
  conn: number;
  seq: number;
}

/** Where answers go: per worker, acks in batches and errors one by one. */
export interface AckSink {
  acks(worker: number, pairs: number[]): void;
  rejected(worker: number, conn: number, error: ErrorBody): void;
}

export class AckQueue {
  private readonly pending: PendingAck[] = [];
  private head = 0;
  private readonly local: { seq: number; resolve: (seq: number) => void; reject: (err: unknown) => void }[] =
    [];

  constructor(
    private readonly sink: AckSink,
    private readonly log: IncidentLogger,
  ) {}

  /** A worker's message, sequenced up to `seq`, waits for `seq` to be durable. */
  add(worker: number, conn: number, seq: number): void {
    this.pending.push({ worker, conn, seq });
  }

  /** An embedding-API call waits for `seq` to be durable. */
  wait(seq: number): Promise<number> {
    return new Promise((resolve, reject) => this.local.push({ seq, resolve, reject }));
  }

  /** `seq` became durable: acks everything up to it. */
  durable(seq: number): void {
    const perWorker: number[][] = [];
    const q = this.pending;
    while (this.head < q.length && q[this.head].seq <= seq) {
      const a = q[this.head++];
      (perWorker[a.worker] ??= []).push(a.conn, a.seq);
    }
    this.compact();
    perWorker.forEach((pairs, w) => this.sink.acks(w, pairs));
    while (this.local.length > 0 && this.local[0].seq <= seq) {
      const w = this.local.shift()!;
      w.resolve(w.seq);
    }
  }

  /** The WAL failed: every waiting message and call gets `err`, in order. */
  failAll(err: unknown): void {
    const body = errorBody(err, undefined, this.log);
    const q = this.pending;
    while (this.head < q.length) {
      const a = q[this.head++];
      this.sink.rejected(a.worker, a.conn, body);
    }
    this.compact();
    for (const w of this.local.splice(0)) w.reject(err);
  }

  /** Messages and calls still waiting. */
  get size(): number {
    return this.pending.length - this.head + this.local.length;
  }

  private compact(): void {
    const q = this.pending;
    if (this.head === q.length) {
      q.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > q.length) {
      q.splice(0, this.head);
      this.head = 0;
    }
  }
}
