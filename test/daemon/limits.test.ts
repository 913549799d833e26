import assert from "node:assert/strict";
import { describe, test } from "node:test";
import WebSocket from "ws";
import { Client, suiteDaemon } from "../support/daemon.js";

/** Distinct valid symbols: S0, S1, … */
const symbols = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `S${from + i}`);

describe("limits: what one client may hold is bounded, and refused with LIMIT_REACHED", () => {
  const daemon = suiteDaemon([
    "--max-subscriptions",
    "3",
    "--max-replays",
    "2",
    "--max-connections-per-ip",
    "12",
  ]);

  test("the documented symbol limit is reachable in one request, and holds over several", async () => {
    const c = await Client.connect(daemon().url("/v1/feed"));
    c.send({ op: "subscribe", id: 1, symbols: symbols(10_000) });
    assert.equal((await c.nextOp("subscribed")).id, 1);
    c.send({ op: "subscribe", id: 2, symbols: ["ONE_MORE"] });
    const err = await c.nextOp("error");
    assert.deepEqual([err.code, err.id], ["LIMIT_REACHED", 2]);
    assert.ok(String(err.message).length < 200, "the error does not echo the request");
    // Freed by unsubscribing.
    c.send({ op: "unsubscribe", id: 1 });
    await c.nextOp("unsubscribed");
    c.send({ op: "subscribe", id: 3, symbols: symbols(6000) });
    c.send({ op: "subscribe", id: 4, symbols: symbols(4000, 6000) });
    await c.until(() => c.text.filter((m) => m.op === "subscribed").length === 3, "two more subscriptions");
    c.close();
  });

  test("subscriptions and replays per connection", async () => {
    const c = await Client.connect(daemon().url("/v1/feed"));
    for (let id = 1; id <= 4; id++) c.send({ op: "subscribe", id, symbols: [`X${id}`] });
    await c.until(() => c.text.length === 4, "four answers");
    assert.deepEqual(
      c.text.map((m) => m.op),
      ["subscribed", "subscribed", "subscribed", "error"],
    );
    assert.equal(c.text[3].code, "LIMIT_REACHED");
    c.close();

    const pub = await Client.connect(daemon().url("/v1/ingest"));
    pub.send({ type: "trade", symbol: "R", price: 1, size: 1 });
    await pub.nextOp("ack");
    pub.close();
    const r = await Client.connect(daemon().url("/v1/feed"));
    // Paced far below real time, so the first two stay open.
    for (let id = 1; id <= 3; id++) {
      r.send({
        op: "subscribe",
        id,
        symbols: ["R"],
        feed: "historical",
        from: { seq: 1 },
        live: true,
        speed: 0.001,
      });
    }
    await r.until(
      () => r.text.filter((m) => m.op === "subscribed" || m.op === "error").length === 3,
      "answers",
    );
    const refused = r.text.find((m) => m.op === "error")!;
    assert.deepEqual([refused.code, refused.id], ["LIMIT_REACHED", 3]);
    r.close();
  });

  test("connections per client address, over all workers, refused before the upgrade", async () => {
    const open: WebSocket[] = [];
    for (let i = 0; i < 12; i++) {
      const ws = new WebSocket(daemon().url("/v1/feed"));
      await new Promise((resolve, reject) => {
        ws.once("open", resolve);
        ws.once("error", reject);
      });
      open.push(ws);
    }
    const refused = new WebSocket(daemon().url("/v1/feed"));
    const status = await new Promise<{ code: number; body: string }>((resolve) => {
      refused.once("unexpected-response", (_req, res) => {
        let body = "";
        res.on("data", (d: Buffer) => (body += d));
        res.on("end", () => resolve({ code: res.statusCode ?? 0, body }));
      });
    });
    assert.equal(status.code, 429);
    assert.equal((JSON.parse(status.body) as { code: string }).code, "LIMIT_REACHED");
    // One closes: one more may come in.
    const closed = new Promise((r) => open[0].once("close", r));
    open[0].close();
    await closed;
    await new Promise((r) => setTimeout(r, 100));
    const again = await Client.connect(daemon().url("/v1/feed"));
    again.close();
    for (const ws of open.slice(1)) ws.close();
  });
});
