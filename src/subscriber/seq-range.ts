/**
 * A `from`/`to` request resolved to seqs, the one way historical subscriptions, the HTTP data endpoints and
 * `tickring export` resolve theirs: `from` a seq, or the first seq whose ts_recv is at or after a time; `to`
 * a seq, or a time ending the range at the first frame received later (absent: the newest seq now, or no
 * end for a replay that goes live). A `from` past the newest seq, or a time after the newest frame, is
 * OUT_OF_RANGE; a `from` before what a token may reach back to is refused (its grant's refusal); a range
 * that starts before what retention kept starts at the oldest seq kept, and says which seqs are gone for
 * good (`retired`).
 */
import { TickringError } from "../errors.js";
import { frameTsRecvApprox } from "../frame/codec.js";
import type { FeedGrant } from "./feed-access.js";
import type { GapReason } from "./ring-pump.js";
import { HistoryReader, type HistorySources, oldestSeq, seqAtTime } from "./history.js";
import type { Position } from "./protocol.js";

export interface SeqRange {
  fromSeq: number;
  /** The last seq (inclusive); Number.MAX_SAFE_INTEGER for a replay that goes live. */
  toSeq: number;
  /** ts_recv past which the range ends (ns, approximate), or Infinity when `to` is not a time. */
  toTimeNs: number;
  /** Seqs the request asked for that retention removed, [from, to], when there are any. */
  retired?: [number, number];
}

/** How a range may reach past the newest seq. */
export interface RangeMode {
  /** No end: a replay that joins the real-time feed (a `from` time after the newest frame is where it joins). */
  live?: boolean;
  /** A `to` seq past the newest stays: a replay waits for those seqs. Otherwise it is cut to the newest. */
  waitForTo?: boolean;
  /** What the request's token grants (auth on): how far back it may reach. */
  grant?: FeedGrant;
}

/** Resolves `from`…`to` against history whose newest seq is `newest`. */
export async function resolveRange(
  history: HistorySources,
  from: Position,
  to: Position | undefined,
  newest: number,
  { live = false, waitForTo = false, grant }: RangeMode = {},
): Promise<SeqRange> {
  let fromSeq = "seq" in from ? from.seq : await seqAtTime(history, Number(from.timeNs), 1, newest);
  if (fromSeq > newest + 1) {
    throw new TickringError("OUT_OF_RANGE", `from seq ${fromSeq} is past the newest seq ${newest}`);
  }
  if (fromSeq > newest && !live && "timeNs" in from) {
    // A time after the newest frame: nothing to read, and a bounded replay would never start.
    throw new TickringError("OUT_OF_RANGE", `from time is after the newest frame (seq ${newest})`);
  }
  if (grant !== undefined && grant.earliestNs > Number.NEGATIVE_INFINITY) {
    const early =
      "timeNs" in from
        ? Number(from.timeNs) < grant.earliestNs
        : fromSeq < (await seqAtTime(history, grant.earliestNs, 1, newest));
    if (early) throw grant.tooEarly();
  }
  const toSeq = live
    ? Number.MAX_SAFE_INTEGER
    : to !== undefined && "seq" in to
      ? waitForTo
        ? to.seq
        : Math.min(to.seq, newest)
      : newest;
  const oldest = await oldestSeq(history);
  let retired: [number, number] | undefined;
  if (fromSeq < oldest && oldest !== Number.MAX_SAFE_INTEGER) {
    retired = [fromSeq, Math.min(oldest - 1, toSeq)];
    fromSeq = oldest;
  }
  return {
    fromSeq,
    toSeq,
    toTimeNs: to !== undefined && "timeNs" in to ? Number(to.timeNs) : Number.POSITIVE_INFINITY,
    ...(retired === undefined ? {} : { retired }),
  };
}

/** Seqs [from, to] of a range that will never be read, and why (retention took them, or nothing holds them). */
export type RangeGapListener = (from: number, to: number, reason: GapReason) => void;

/** What {@link scanRange} does with each frame: false stops the scan, a promise makes it wait. */
export type FrameVisitor = (bytes: Uint8Array, off: number) => boolean | Promise<boolean>;

/**
 * Visits every frame of `range` in seq order, reading history with one bounded buffer (HistoryReader's);
 * returns the last seq read. A visitor's batch view is valid only during its call. Seqs that cannot be read
 * are told to `onGap` where they fall, between the frames before and after them, and skipped: the range's
 * `retired` seqs first, then what history finds unreadable or lost.
 */
export async function scanRange(
  history: HistorySources,
  range: SeqRange,
  visit: FrameVisitor,
  onGap: RangeGapListener,
): Promise<number> {
  if (range.retired !== undefined) onGap(range.retired[0], range.retired[1], "retired");
  const reader = new HistoryReader(history, range.fromSeq, onGap);
  const byTime = range.toTimeNs !== Number.POSITIVE_INFINITY;
  let last = range.fromSeq - 1;
  try {
    for (let b = await reader.read(range.toSeq); b !== null; b = await reader.read(range.toSeq)) {
      for (let i = 0; i < b.count; i++) {
        const off = b.offsets[i];
        if (byTime && frameTsRecvApprox(b.bytes, off) > range.toTimeNs) return last;
        last = b.firstSeq + i;
        const r = visit(b.bytes, off);
        if (r === false || (r !== true && !(await r))) return last;
      }
    }
    return last;
  } finally {
    reader.close();
  }
}
