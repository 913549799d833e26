/**
 * Layout of one message of the replicated log (a JetStream message on the stream's one subject): a batch of
 * frames with the seq of the first, published by the leader after its WAL accepted them.
 *
 * ```
 *  headers
 *    Tickring-Seq: <seq of the first frame>      (for a claim, the seq the next frame will have)
 *    Tickring-Count: <frames in the payload>     (0 for a claim)
 *    Tickring-Leader: <id of the node that published it>
 *    Nats-Msg-Id: <first seq>-<last seq>          (JetStream drops a re-sent copy inside its window)
 *    Nats-Expected-Last-Sequence: <stream seq>    (the fence: refused unless the stream ends there)
 *  payload
 *   +---------------------------------------------------------------+
 *   |  Frame: size-prefixed FlatBuffer, exactly as the WAL, the     ...
 *   ...      ring and the sockets carry it (a multiple of 8 bytes) |
 *   +---------------------------------------------------------------+
 *   |  Frame of seq + 1 …                                          ...
 *   +---------------------------------------------------------------+
 * ```
 *
 * A claim (count 0, empty payload) is what a node appends when it becomes the leader: fenced like any
 * batch, it proves that nothing was appended since the node read the stream to its end, and every later
 * append of the previous leader is refused.
 *
 * Invariants: batches hold consecutive seqs; each batch's first seq is the previous batch's last + 1 (a
 * claim's seq equals the next batch's first). The payload is at most {@link MAX_BATCH_BYTES}, which holds
 * the largest frame the codec accepts; the stream's `max_msg_size` admits it with its headers.
 */
import { MAX_FRAME_LENGTH } from "../frame/codec.js";

export const SEQ_HEADER = "Tickring-Seq";
export const COUNT_HEADER = "Tickring-Count";
export const LEADER_HEADER = "Tickring-Leader";

/** Most payload bytes in one batch: twice the largest frame, so any frame fits. */
export const MAX_BATCH_BYTES = 2 * MAX_FRAME_LENGTH;
/** The stream's `max_msg_size`: a batch and its headers. */
export const MAX_MESSAGE_BYTES = MAX_BATCH_BYTES + 4096;

/** A batch's headers, parsed. */
export interface BatchHeaders {
  /** Seq of the first frame (of the next frame, for a claim). */
  firstSeq: number;
  /** Frames in the payload; 0 for a claim. */
  count: number;
  /** Id of the node that published it. */
  leader: string;
}

/** Seq of the last frame a batch holds (of the frame before a claim). */
export function lastSeqOf(b: BatchHeaders): number {
  return b.firstSeq + b.count - 1;
}

/** The message id of a batch: equal for a re-sent copy, distinct for every other batch of one history. */
export function batchMsgId(firstSeq: number, count: number): string {
  return `${firstSeq}-${firstSeq + count - 1}`;
}

/**
 * Reads a batch's headers through `get` (a header's value, or "" when absent); null when they are not a
 * tickring batch's (a message another publisher put on the subject).
 */
export function parseBatchHeaders(get: (name: string) => string): BatchHeaders | null {
  const firstSeq = Number(get(SEQ_HEADER));
  const count = Number(get(COUNT_HEADER));
  const leader = get(LEADER_HEADER);
  if (!Number.isSafeInteger(firstSeq) || firstSeq < 1) return null;
  if (!Number.isSafeInteger(count) || count < 0) return null;
  if (leader === "") return null;
  return { firstSeq, count, leader };
}
