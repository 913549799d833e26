import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Tickring } from "../../src/daemon/tickring.js";
import type { Tick } from "../../src/frame/codec.js";
import { Client, suiteDaemon, tempDir } from "../support/daemon.js";

const trade = (price: unknown) => ({ type: "trade", symbol: "ORD", price, size: 1 });

describe("replies name what they answer, in the order of the messages", () => {
  const daemon = suiteDaemon();

  test("acks and errors of one publisher echo each envelope id, in message order", async () => {
    const pub = await Client.connect(daemon().url("/v1/ingest"));
    const ids = ["a", 2, "c", 4, "e", 6];
    // Good and bad messages interleaved: an error found at the edge must not overtake an earlier ack.
    for (const [i, id] of ids.entries()) pub.send({ id, ticks: [trade(i % 2 === 0 ? 1 + i : "bad")] });
    pub.send([trade(1)]); // the bare form: its ack has no id
    await pub.until(() => pub.text.length === ids.length + 1, "every reply");
    assert.deepEqual(
      pub.text.map((m) => [m.op, m.id, m.code]),
      [
        ["ack", "a", undefined],
        ["error", 2, "BAD_TICK"],
        ["ack", "c", undefined],
        ["error", 4, "BAD_TICK"],
        ["ack", "e", undefined],
        ["error", 6, "BAD_TICK"],
        ["ack", undefined, undefined],
      ],
    );
    const seqs = pub.text.filter((m) => m.op === "ack").map((m) => m.seq as number);
    assert.deepEqual(seqs, [seqs[0], seqs[0] + 1, seqs[0] + 2, seqs[0] + 3]);
    pub.close();
  });

  test("a refused subscription names its id", async () => {
    const c = await Client.connect(daemon().url("/v1/feed"));
    c.send({ op: "subscribe", id: 5, symbols: ["*"], feed: "nightly" });
    c.send({ op: "subscribe", id: 6, symbols: ["*"], feed: "historical", from: { seq: 9 }, to: { seq: 3 } });
    c.send({ op: "unsubscribe", id: 7 });
    await c.until(() => c.text.length === 3, "three errors");
    assert.deepEqual(
      c.text.map((m) => [m.op, m.code, m.id]),
      [
        ["error", "BAD_REQUEST", 5],
        ["error", "BAD_REQUEST", 6],
        ["error", "BAD_REQUEST", 7],
      ],
    );
    c.close();
  });
});

test("the embedding API refuses the ticks the wire refuses", async () => {
  const dir = tempDir();
  const t = await Tickring.start({ data: dir.path, port: 0, workers: 1, logLevel: "silent" });
  try {
    await assert.rejects(t.ingest([{ type: "trade", symbol: "X", price: Number.NaN, size: 1 }]), {
      code: "BAD_TICK",
    });
    await assert.rejects(t.ingest([{ type: "trade", symbol: "X", prise: 1, size: 1 } as unknown as Tick]), {
      code: "BAD_TICK",
    });
    await assert.rejects(t.ingest([{ type: "trade", symbol: "A\u202eB", price: 1, size: 1 }]), {
      code: "BAD_TICK",
    });
    assert.equal(t.lastSeq, 0, "nothing of a refused call was sequenced");
    assert.equal(await t.ingest([{ type: "trade", symbol: "X", price: 1, size: 1 }]), 1);
  } finally {
    await t.close();
    dir.remove();
  }
});
