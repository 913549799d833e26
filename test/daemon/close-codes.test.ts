import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Client, suiteDaemon } from "../support/daemon.js";

describe("protocol violations close with the documented code", () => {
  const daemon = suiteDaemon(["--max-message-bytes", "65536"]);

  test("a message over the limit closes with 1009, on ingest and on the feed", async () => {
    const pub = await Client.connect(daemon().url("/v1/ingest"));
    pub.send(Buffer.alloc(100 * 1024, 1));
    await pub.until(() => pub.closeCode !== undefined, "close");
    assert.equal(pub.closeCode, 1009);
    assert.match(pub.closeReason, /limit/);

    const feed = await Client.connect(daemon().url("/v1/feed"));
    feed.send(JSON.stringify({ op: "ping", pad: "x".repeat(1200 * 1024) }));
    await feed.until(() => feed.closeCode !== undefined, "close");
    assert.equal(feed.closeCode, 1009);
  });

  test("binary on the feed closes with 1003 and the daemon keeps serving", async () => {
    const feed = await Client.connect(daemon().url("/v1/feed"));
    feed.send(Buffer.from([1, 2, 3]));
    await feed.until(() => feed.closeCode !== undefined, "close");
    assert.equal(feed.closeCode, 1003);
    const again = await Client.connect(daemon().url("/v1/feed"));
    again.send({ op: "ping" });
    await again.nextOp("pong");
    again.close();
  });
});
