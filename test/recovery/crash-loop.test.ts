/**
 * kill -9 at random moments under continuous ingest, then restart, many times: no acked tick is lost or
 * changed, seqs stay gap-free with no duplicate, and each life's acks continue the seq. Cycles: 20, or
 * TICKRING_CRASH_CYCLES.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { startDaemon, tempDir } from "../support/daemon.js";
import { Publisher, randomInt, resumedSeq } from "./helpers.js";
import { CrashOracle, checkStoreMatchesWal } from "./oracle.js";

const CYCLES = Number(process.env.TICKRING_CRASH_CYCLES ?? 20);

test(`crash loop: ${CYCLES} × kill -9 under ingest loses no acked tick`, async (t) => {
  const dir = tempDir("tickring-crash-");
  const oracle = new CrashOracle();
  try {
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const daemon = await startDaemon(dir.path, ["--workers", "1", "--fsync", "batch"]);
      const seq = resumedSeq(daemon.logs);
      oracle.check(join(dir.path, "wal"), seq);
      const pub = await Publisher.connect(daemon.url("/v1/ingest"));
      pub.start();
      // Let some acks through, then kill at a random moment (often with messages in flight).
      await pub.ackedAtLeast(1);
      await new Promise((r) => setTimeout(r, randomInt(150)));
      await daemon.kill();
      await pub.stop();
      pub.close();
      oracle.absorb(pub, seq, pub.sentIds);
    }
    const daemon = await startDaemon(dir.path, ["--workers", "1"]);
    const finalSeq = resumedSeq(daemon.logs);
    oracle.check(join(dir.path, "wal"), finalSeq);
    t.diagnostic(`${oracle.ackedTotal} ticks acked, WAL ends at seq ${finalSeq}`);
    assert.equal(await daemon.stop(), 0, daemon.stderr());
    await checkStoreMatchesWal(dir.path);
    assert.ok(oracle.ackedTotal >= CYCLES, `only ${oracle.ackedTotal} ticks acked over ${CYCLES} cycles`);
  } finally {
    dir.remove();
  }
});
