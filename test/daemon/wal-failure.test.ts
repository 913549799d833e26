import assert from "node:assert/strict";
import { test } from "node:test";
import { Tickring } from "../../src/daemon/tickring.js";
import { TickringError } from "../../src/errors.js";
import type { Tick } from "../../src/frame/codec.js";
import { Client } from "../support/daemon.js";
import { mountTmpfs } from "../support/tmpfs.js";

const fs = mountTmpfs(8 * 1024 * 1024);

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
