/**
 * The feed's JSON messages as the dashboard reads them (docs/protocol.md, `format:"json"`): a text message
 * is either an array of frame objects or a control object with an `op`. Only the fields the page uses are
 * typed. No DOM.
 */

/** A frame object of the JSON feed. Nanosecond times are decimal strings. */
export interface FrameJson {
  seq: number;
  symbol: string;
  type: "trade" | "quote" | "book" | "bar";
  ts_event: string;
  ts_recv: string;
  price?: number;
  size?: number;
  aggressor?: "buy" | "sell" | null;
  bid_price?: number;
  ask_price?: number;
  interval_ns?: string;
  open?: number;
  high?: number;
  low?: number;
  close?: number;
  volume?: number;
  revision?: number;
}

/** A control message (`subscribed`, `error`, `gap`, `heartbeat`, `authenticated`, …). */
export interface ControlJson {
  op: string;
  id?: number;
  seq?: number;
  code?: string;
  message?: string;
}

/** One parsed feed message. */
export type FeedMessage = { frames: FrameJson[] } | { control: ControlJson };

/** Parses one text message of the JSON feed; throws on text that is neither. */
export function parseFeedMessage(text: string): FeedMessage {
  const v: unknown = JSON.parse(text);
  if (Array.isArray(v)) return { frames: v as FrameJson[] };
  if (typeof v === "object" && v !== null && typeof (v as ControlJson).op === "string") {
    return { control: v as ControlJson };
  }
  throw new Error(`feed: a message that is neither frames nor a control message: ${text.slice(0, 40)}`);
}

/** Milliseconds since the epoch of a nanosecond decimal string (to the millisecond). */
export function nsToMs(ns: string): number {
  // The last six digits are below a millisecond: dropping them keeps the rest within 2^53.
  return ns.length > 6 ? Number(ns.slice(0, -6)) : 0;
}
