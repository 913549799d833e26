/**
 * The trades tape's model: the last trades of the chosen symbol, newest first, at most `capacity`. A trade
 * is a few stores into a fixed ring; the panel reads them when it draws. No DOM.
 */
import { type FrameJson, nsToMs } from "./frames.js";

/** One trade on the tape. */
export interface TapeTrade {
  seq: number;
  /** ts_event, ms since the epoch. */
  time: number;
  price: number;
  size: number;
  aggressor: "buy" | "sell" | null;
}

export class TradeTape {
  private readonly ring: TapeTrade[] = [];
  private next = 0;
  private symbol: string | undefined;
  /** Bumped on every change: a view drawn at this version is still current. */
  version = 0;

  constructor(readonly capacity: number) {}

  /** Follows `symbol` from now on, forgetting the trades of the one before. */
  follow(symbol: string | undefined): void {
    this.symbol = symbol;
    this.ring.length = 0;
    this.next = 0;
    this.version++;
  }

  /** Takes a frame of the feed: a trade of the followed symbol goes on the tape. */
  onFrame(f: FrameJson): void {
    if (f.type !== "trade" || f.symbol !== this.symbol || f.price === undefined) return;
    const t: TapeTrade = {
      seq: f.seq,
      time: nsToMs(f.ts_event),
      price: f.price,
      size: f.size ?? 0,
      aggressor: f.aggressor ?? null,
    };
    if (this.ring.length < this.capacity) this.ring.push(t);
    else this.ring[this.next] = t;
    this.next = (this.next + 1) % this.capacity;
    this.version++;
  }

  /** The trades, newest first. */
  trades(): TapeTrade[] {
    const out: TapeTrade[] = [];
    for (let i = 1; i <= this.ring.length; i++) {
      out.push(this.ring[(this.next - i + this.capacity) % this.capacity]);
    }
    return out;
  }
}
