/**
 * The main thread's side of the workers' ingest rings: one loop per ring that sleeps on it, and when a
 * worker writes, sequences every record written since (stamping the frames where they lie), commits them
 * as one WAL group, writes each record's answer — its last seq, or its error — and tells the worker. When
 * more becomes durable every worker is told too; workers ack from the durable seq in shared memory.
 *
 * A worker that is replaced gets a fresh ring; records its predecessor left unanswered are dropped with the
 * old ring (their publishers lost their connections and had no ack: nothing acked is lost).
 */
import { setImmediate as yieldToLoop } from "node:timers/promises";
import { ERROR_CODES, TickringError } from "../errors.js";
import { IngestRingConsumer } from "../ring/ingest-consumer.js";
import type { Writer } from "./writer.js";

/** Data region of each worker's ingest ring. */
const RING_BYTES = 16 * 1024 * 1024;

export class IngestPump {
  private readonly rings: (IngestRingConsumer | undefined)[] = [];
  private running = true;

  constructor(private readonly writer: Writer) {
    writer.onDurable(() => {
      for (const r of this.rings) r?.announce();
    });
  }

  /** A fresh ring for (an incarnation of) worker `index`, served from now on; the old one is dropped. */
  ringFor(index: number): SharedArrayBuffer {
    const ring = IngestRingConsumer.allocate(RING_BYTES);
    this.rings[index] = ring;
    void this.serve(index, ring);
    return ring.buffer;
  }

  /**
   * Stops every loop after its current turn, having answered what the workers wrote before they stopped
   * (so it is sequenced, and made durable by the shutdown's last flush).
   */
  stop(): void {
    for (const r of this.rings) while (r?.pending && r.drain(this.visit, this.finish) > 0);
    this.running = false;
    for (const r of this.rings) r?.announce();
  }

  private async serve(index: number, ring: IngestRingConsumer): Promise<void> {
    while (this.running && this.rings[index] === ring) {
      ring.drain(this.visit, this.finish);
      if (ring.pending) await yieldToLoop();
      else await ring.awaitData();
    }
  }

  private readonly visit = (_conn: number, frames: Uint8Array, count: number): number => {
    try {
      return this.writer.sequenceEncoded(frames, count);
    } catch (err) {
      return answerOf(err);
    }
  };

  private readonly finish = (): number | undefined => {
    const refused = this.writer.commit();
    return refused === undefined ? undefined : answerOf(refused);
  };
}

/** An error as a record's answer: −(1 + its code's index); anything not ours is INTERNAL. */
function answerOf(err: unknown): number {
  const code = err instanceof TickringError ? err.code : "INTERNAL";
  return -(1 + ERROR_CODES.indexOf(code));
}
