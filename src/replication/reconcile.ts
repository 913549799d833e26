/**
 * Compares a node's WAL with the replicated log when it joins, before it serves: which of its seqs the
 * stream holds with the same bytes, and where its WAL must be cut.
 *
 * - The WAL is a prefix of the stream (a follower that was away): nothing to cut; it reads on from its end.
 * - The WAL runs past the stream's end with the stream's bytes up to there (a leader that stopped before
 *   replicating its last ticks): nothing to cut yet. If this node leads next, it replicates that tail (its
 *   ticks, acked under `--ack-after durable`, are kept); if another node appends first, the follower finds
 *   the other node's frames under those seqs and the node starts again, to be cut here.
 * - The WAL and the stream differ at some seq both hold (a former leader whose tail never reached the
 *   stream, replaced by the next leader's frames): a binary search over the seqs both hold finds the last
 *   equal one, and the WAL is cut after it. Histories that differ once differ from there on (every frame
 *   carries its leader's ts_recv), so equality at one seq means equality before it.
 */
import { frameLength } from "../frame/codec.js";
import { openWalReader } from "../storage/index.js";
import { ReplicationError } from "./errors.js";
import type { StreamIndex } from "./stream-index.js";

/** The node's WAL as recovered: its directory and the seqs it holds (`lastSeq` 0 when empty). */
export interface LocalLog {
  walDir: string;
  firstSeq: number;
  lastSeq: number;
}

/** What a joining node must do to its WAL. */
export interface Reconciled {
  /** Cut the WAL after this seq before serving; undefined when nothing is to be cut. */
  cutAfter?: number;
  /** The last frame the stream holds (0 when none). */
  streamLastSeq: number;
}

/**
 * Compares `local` with the stream. Throws {@link ReplicationError} when the WAL and the stream share no
 * seq they agree on and the WAL cannot be cut to nothing (it starts after seq 1).
 */
export async function reconcile(index: StreamIndex, local: LocalLog): Promise<Reconciled> {
  const end = await index.locate(Number.MAX_SAFE_INTEGER);
  const streamLastSeq = end.kind === "after" ? end.lastSeq : 0;
  if (local.lastSeq === 0 || streamLastSeq === 0) return { streamLastSeq };
  const probe = Math.min(local.lastSeq, streamLastSeq);
  const same = await sameFrame(index, local, probe);
  if (same === undefined) return { streamLastSeq }; // the stream no longer holds the WAL's seqs: nothing to compare
  if (same) return { streamLastSeq };
  // Frames differ at `probe`: find the last seq at which they agree.
  let lo = Math.max(local.firstSeq, await oldestHeld(index)) - 1;
  let hi = probe;
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if ((await sameFrame(index, local, mid)) === true) lo = mid;
    else hi = mid;
  }
  // Cutting everything is fine for a WAL from seq 1 (it starts again empty), impossible for a later one.
  if (lo < local.firstSeq && local.firstSeq > 1) {
    throw new ReplicationError(
      index.stream,
      `this node's WAL (seqs ${local.firstSeq}–${local.lastSeq}) differs from the stream at every seq both hold: restore it from a snapshot of the leader`,
    );
  }
  return { cutAfter: lo, streamLastSeq };
}

/** The stream's oldest frame seq. */
async function oldestHeld(index: StreamIndex): Promise<number> {
  const at = await index.locate(1);
  return at.kind === "before" ? at.firstSeq : 1;
}

/** Whether frame `seq` is the same in the WAL and the stream; undefined when either lacks it. */
async function sameFrame(index: StreamIndex, local: LocalLog, seq: number): Promise<boolean | undefined> {
  if (seq < local.firstSeq) return undefined;
  const remote = await index.frame(seq);
  if (remote === null) return undefined;
  const mine = localFrame(local.walDir, seq);
  return mine !== null && Buffer.from(mine).equals(Buffer.from(remote));
}

function localFrame(walDir: string, seq: number): Uint8Array | null {
  const reader = openWalReader(walDir, seq);
  try {
    const batch = reader.nextSync(seq);
    if (batch === null) return null;
    const off = batch.offsets[0];
    return batch.bytes.slice(off, off + frameLength(batch.bytes, off));
  } finally {
    reader.close();
  }
}
