/**
 * Heartbeats on idle subscriptions: each interval, every subscription that was sent nothing since the last
 * one gets `{"op":"heartbeat","seq":N}` (JSON) or a Heartbeat frame carrying N (binary), N being the newest
 * seq its worker has seen. Heartbeats never consume a seq and never pass through the WAL or the ring.
 */
import { FrameEncoder } from "../frame/codec.js";
import type { RealtimeSubscription } from "./realtime-feed.js";

/** A fan-out whose idle subscriptions get heartbeats. */
export interface IdleSource {
  /** Fills `out` with the subscriptions that sent nothing since the last call, and resets the marks. */
  idle(out: RealtimeSubscription[]): void;
}

export class Heartbeats {
  private readonly idle: RealtimeSubscription[] = [];
  private readonly encoder = new FrameEncoder();

  constructor(
    private readonly sources: readonly IdleSource[],
    private readonly latestSeq: () => number,
  ) {}

  /** Sends one heartbeat to each idle subscription; call once per interval. */
  beat(): void {
    const seq = this.latestSeq();
    let frame: Uint8Array | undefined;
    let text: string | undefined;
    for (const source of this.sources) {
      source.idle(this.idle);
      for (const sub of this.idle) {
        if (sub.conn.closed) continue;
        if (sub.json) sub.conn.ws.send((text ??= `{"op":"heartbeat","seq":${seq}}`), false);
        else sub.conn.ws.send((frame ??= this.encoder.encodeHeartbeat(BigInt(seq), 0n).slice()), true);
      }
    }
    this.idle.length = 0;
  }
}
