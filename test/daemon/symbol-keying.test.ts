import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FrameView, frameSeq } from "../../src/frame/codec.js";
import { Client, framesOf, suiteDaemon } from "../support/daemon.js";

const symbolOf = (f: Buffer) => new FrameView().wrap(f).symbol();

/**
 * A publisher may set `instrument_id` to anything (the protocol's own example sets 12): filters, last values
 * and replays must follow the symbol, never the id.
 */
describe("frames are looked up by symbol, not instrument_id", () => {
  const daemon = suiteDaemon();

  test("a tick with its own instrument_id reaches its symbol's subscribers, live and historical", async () => {
    const live = await Client.connect(daemon().url("/v1/feed"));
    live.send({ op: "subscribe", id: 1, symbols: ["AAPL"] });
    await live.nextOp("subscribed");
    const pub = await Client.connect(daemon().url("/v1/ingest"));
    pub.send([
      { type: "trade", symbol: "AAPL", instrument_id: 12, price: 190.5, size: 100 },
      { type: "trade", symbol: "MSFT", instrument_id: 12, price: 420, size: 5 },
    ]);
    const seq = (await pub.nextOp("ack")).seq as number;
    await live.until(() => framesOf(live.binary).length >= 1, "the AAPL frame");
    assert.deepEqual(
      framesOf(live.binary).map(symbolOf),
      ["AAPL"],
      "only AAPL, though MSFT has the same instrument_id",
    );

    const hist = await Client.connect(daemon().url("/v1/feed"));
    hist.send({
      op: "subscribe",
      id: 2,
      symbols: ["MSFT"],
      feed: "historical",
      from: { seq: seq - 1 },
      to: { seq },
    });
    await hist.nextOp("replay_done");
    assert.deepEqual(
      framesOf(hist.binary).map((f) => [symbolOf(f), frameSeq(f, 0)]),
      [["MSFT", seq]],
    );

    // Two symbols sharing an id keep a last value each.
    const late = await Client.connect(daemon().url("/v1/feed"));
    late.send({ op: "subscribe", id: 3, symbols: ["AAPL", "MSFT"] });
    await late.until(() => framesOf(late.binary).length >= 2, "two last values");
    assert.deepEqual(framesOf(late.binary).map(symbolOf).sort(), ["AAPL", "MSFT"]);
    for (const c of [live, pub, hist, late]) c.close();
  });
});
