import assert from "node:assert/strict";
import { test } from "node:test";
import { Tickring } from "../../src/daemon/tickring.js";
import { TickringError } from "../../src/errors.js";
import type { Tick } from "../../src/frame/codec.js";
import { Client, framesOf } from "../support/daemon.js";
import { mountTmpfs } from "../support/tmpfs.js";
import { frameSeq } from "../../src/frame/codec.js";
import { statfsSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const fs = mountTmpfs(8 * 1024 * 1024);
/** Big enough that freeing the filler leaves the 64 MiB the writer waits for before it resumes. */
const roomy = mountTmpfs(96 * 1024 * 1024);

/** Book ticks of ≈ 2.5 KB: a few thousand fill the small disk. */
const book = (i: number): Tick => {
  const levels = Array.from({ length: 50 }, (_, j) => ({ price: 100 + j, size: i + j }));
  return { type: "book", symbol: `S${i % 4}`, snapshot: true, bids: levels, asks: levels };
};

test(
  "a full disk rejects ingest with DISK_FULL, on the embedding API and the wire: nothing hangs, nothing crashes",
  { skip: typeof fs === "string" ? fs : false },
  async () => {
    if (typeof fs === "string") return;
    const t = await Tickring.start({ data: fs.path, port: 0, workers: 1, logLevel: "silent" });
    try {
      let rejected: unknown;
      for (let i = 0; i < 10_000 && rejected === undefined; i++) {
        await t.ingest(Array.from({ length: 100 }, (_, j) => book(i * 100 + j))).catch((err) => {
          rejected = err;
        });
      }
      assert.ok(rejected instanceof TickringError, `ingest rejected: ${String(rejected)}`);
      assert.equal(rejected.code, "DISK_FULL");
      // Later calls are refused at once, and a publisher on the wire gets the same code, not a dropped socket.
      await assert.rejects(t.ingest([book(0)]), { code: "DISK_FULL" });
      const pub = await Client.connect(`ws://127.0.0.1:${t.port}/v1/ingest`);
      pub.send({ id: "late", ticks: [{ type: "trade", symbol: "X", price: 1, size: 1 }] });
      const err = await pub.nextOp("error");
      assert.equal(err.code, "DISK_FULL");
      assert.equal(err.id, "late");
      pub.close();
    } finally {
      await t.close();
      fs.remove();
    }
  },
);

test(
  "ingest refused on a full disk resumes by itself once space is freed: healthz says read_only meanwhile, every acked tick replays once",
  { skip: typeof roomy === "string" ? roomy : false },
  async () => {
    if (typeof roomy === "string") return;
    const t = await Tickring.start({ data: roomy.path, port: 0, workers: 1, logLevel: "silent" });
    const filler = join(roomy.path, "filler");
    try {
      // Leave ≈ 2 MiB: a few hundred book ticks fill it.
      const st = statfsSync(roomy.path);
      writeFileSync(filler, Buffer.alloc(st.bavail * st.bsize - 2 * 1024 * 1024));
      const acked: number[] = [];
      let rejected: unknown;
      for (let i = 0; i < 10_000 && rejected === undefined; i++) {
        await t.ingest([book(i)]).then(
          (seq) => acked.push(seq),
          (err) => (rejected = err),
        );
      }
      assert.equal((rejected as TickringError).code, "DISK_FULL");
      const health = await fetch(`http://127.0.0.1:${t.port}/healthz`);
      assert.equal(health.status, 503);
      assert.deepEqual(await health.json(), { status: "read_only", reason: "DISK_FULL", seq: acked.at(-1) });

      unlinkSync(filler);
      // The writer looks for room each second: wait (without a time bound on its speed) for the first accept.
      let seq: number | undefined;
      for (let tries = 0; seq === undefined; tries++) {
        assert.ok(tries < 600, "ingest resumed within a minute of freeing space");
        seq = await t.ingest([book(1_000_000)]).catch(async (err: TickringError) => {
          assert.equal(err.code, "DISK_FULL");
          await new Promise((r) => setTimeout(r, 100));
          return undefined;
        });
      }
      acked.push(seq);
      assert.equal(seq, acked.at(-2)! + 1, "no seq skipped or reused across the refusal");
      assert.equal((await fetch(`http://127.0.0.1:${t.port}/healthz`)).status, 200);

      const c = await Client.connect(`ws://127.0.0.1:${t.port}/v1/feed`);
      c.send({ op: "subscribe", id: 1, feed: "historical", symbols: ["*"], from: { seq: 1 }, to: { seq } });
      await c.nextOp("replay_done");
      c.close();
      const seqs = framesOf(c.binary).map((f) => frameSeq(f, 0));
      assert.deepEqual(seqs, acked);
    } finally {
      await t.close();
      roomy.remove();
    }
  },
);
