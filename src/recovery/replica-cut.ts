/**
 * A replica's cut: a data directory gives up every seq after one, for good — a former leader's tail that
 * never reached the replicated log, whose own frames take those seqs (src/replication). Startup recovery
 * never does this (it keeps what a store ahead of the WAL holds, and refuses a WAL below the acked mark);
 * this is the one place a tail is let go on purpose.
 *
 * Order, each step durable before the next, so that a crash anywhere leaves a directory the next start
 * recovers and the next join cuts again:
 *
 * 1. the acked mark goes down to the cut (a WAL still above it is fine);
 * 2. the store forgets the tail (otherwise recovery would put it back into the WAL);
 * 3. the WAL is cut ({@link truncateWalAfter}).
 */
import { truncateWalAfter, type WalTruncation } from "../storage/index.js";
import type { Recovered } from "./startup.js";

/**
 * Cuts the recovered directory whose WAL is in `walDir` after `seq`, and closes what `recovered` opened
 * (the caller recovers again). Returns what the WAL lost.
 */
export async function cutReplicaTail(
  recovered: Recovered,
  walDir: string,
  seq: number,
): Promise<WalTruncation> {
  const { wal, store, acked } = recovered;
  try {
    acked.lowerTo(seq);
    await store.rollbackTo(seq);
  } finally {
    await wal.close();
    await store.close();
    await acked.close();
  }
  return truncateWalAfter(walDir, seq);
}
