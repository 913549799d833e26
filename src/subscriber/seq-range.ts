/**
 * A `from`/`to` request resolved to seqs, as historical subscriptions resolve theirs: `from` a seq, or the
 * first seq whose ts_recv is at or after a time; `to` a seq, or a time ending the range at the first frame
 * received later (absent: the newest seq now). A range that starts before what retention kept starts at the
 * oldest seq kept.
 */
import { TickringError } from "../errors.js";
import { frameTsRecvApprox } from "../frame/codec.js";
import { HistoryReader, type HistorySources, oldestSeq, seqAtTime } from "./history.js";
import type { Position } from "./protocol.js";

export interface SeqRange {
  fromSeq: number;
  toSeq: number;
  /** ts_recv past which the range ends (ns, approximate), or Infinity when `to` is not a time. */
  toTimeNs: number;
}

/** Resolves `from`…`to` against history whose newest seq is `newest`; OUT_OF_RANGE past the newest. */
export async function resolveRange(
  history: HistorySources,
  from: Position,
  to: Position | undefined,
  newest: number,
): Promise<SeqRange> {
  let fromSeq = "seq" in from ? from.seq : await seqAtTime(history, Number(from.timeNs), 1, newest);
  if (fromSeq > newest + 1) {
    throw new TickringError("OUT_OF_RANGE", `from seq ${fromSeq} is past the newest seq ${newest}`);
  }
  const oldest = await oldestSeq(history);
  if (fromSeq < oldest && oldest !== Number.MAX_SAFE_INTEGER) fromSeq = oldest;
  return {
    fromSeq,
    toSeq: to !== undefined && "seq" in to ? Math.min(to.seq, newest) : newest,
    toTimeNs: to !== undefined && "timeNs" in to ? Number(to.timeNs) : Number.POSITIVE_INFINITY,
  };
}

/** What {@link scanRange} does with each frame: false stops the scan, a promise makes it wait. */
export type FrameVisitor = (bytes: Uint8Array, off: number) => boolean | Promise<boolean>;

/**
 * Visits every frame of `range` in seq order, reading history with one bounded buffer (HistoryReader's);
 * returns the last seq read. A visitor's batch view is valid only during its call.
 */
export async function scanRange(
  history: HistorySources,
  range: SeqRange,
  visit: FrameVisitor,
): Promise<number> {
  const reader = new HistoryReader(history, range.fromSeq);
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
