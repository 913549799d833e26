/**
 * Embedding-API calls waiting for durability: `Tickring.ingest` resolves once every seq of its ticks is
 * durable under the fsync policy. Calls are sequenced in order, so the queue is in seq order and each
 * durable advance releases a prefix of it. (Publishers on the wire are acked by their workers, which read
 * the durable seq from shared memory.) When the WAL fails, nothing still waiting can be called durable:
 * every call is rejected with the error.
 */
export class AckQueue {
  private readonly waiting: {
    seq: number;
    resolve: (seq: number) => void;
    reject: (err: unknown) => void;
  }[] = [];

  /** Resolves with `seq` once it is durable. */
  wait(seq: number): Promise<number> {
    return new Promise((resolve, reject) => this.waiting.push({ seq, resolve, reject }));
  }

  /** `seq` became durable: resolves every call up to it. */
  durable(seq: number): void {
    while (this.waiting.length > 0 && this.waiting[0].seq <= seq) {
      const w = this.waiting.shift()!;
      w.resolve(w.seq);
    }
  }

  /** The WAL failed: every waiting call is rejected with `err`. */
  failAll(err: unknown): void {
    for (const w of this.waiting.splice(0)) w.reject(err);
  }

  /** Calls still waiting. */
  get size(): number {
    return this.waiting.length;
  }
}
