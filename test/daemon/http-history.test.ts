import assert from "node:assert/strict";
import { get, type IncomingMessage } from "node:http";
import { before, describe, test } from "node:test";
import { FrameView } from "../../src/frame/codec.js";
import { frameToObject } from "../../src/frame/json.js";
import { Client, type Daemon, suiteDaemon } from "../support/daemon.js";
import { walFrames } from "../support/wal.js";

/** Every frame in the daemon's WAL as the JSON the endpoints render. */
function walObjects(data: string): Record<string, unknown>[] {
  const view = new FrameView();
  return walFrames(data).map((f) => frameToObject(view.wrap(f)));
}

/** GETs `path`; with `pauseMs`, reads nothing for that long after the first bytes (a slow client). */
function fetchText(
  port: number,
  path: string,
  pauseMs = 0,
): Promise<{ status: number; headers: IncomingMessage["headers"]; body: string }> {
  return new Promise((resolve, reject) => {
    get({ host: "127.0.0.1", port, path }, (res) => {
      const chunks: Buffer[] = [];
      let paused = false;
      res.on("data", (c: Buffer) => {
        chunks.push(c);
        if (pauseMs > 0 && !paused) {
          paused = true;
          res.pause();
          setTimeout(() => res.resume(), pauseMs);
        }
      });
      res.on("end", () =>
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }),
      );
      res.on("error", reject);
    }).on("error", reject);
  });
}

describe("HTTP history on the daemon's port", () => {
  const daemonOf = suiteDaemon(["--wal-segment-bytes", "1MiB", "--max-connections-per-ip", "2"]);
  let daemon: Daemon;
  before(async () => {
    daemon = daemonOf();
    const pub = await Client.connect(daemon.url("/v1/ingest"));
    for (let m = 0; m < 20; m++) {
      pub.send(
        Array.from({ length: 2000 }, (_, i) => ({
          type: i % 4 === 0 ? "quote" : "trade",
          symbol: ["AAPL", "MSFT", "NVDA"][i % 3],
          ...(i % 4 === 0
            ? { bid_price: i, bid_size: 1, ask_price: i + 1, ask_size: 2 }
            : { price: 100 + (i % 50) / 10, size: i % 7 }),
        })),
      );
      await pub.until(() => pub.text.filter((t) => t.op === "ack").length > m, "ack");
    }
    pub.close();
  });

  test("GET /v1/history streams the WAL's frames in chunks, to a slow client as to a fast one", async () => {
    const all = walObjects(daemon.data);
    assert.equal(all.length, 40_000);
    const fast = await fetchText(daemon.port, "/v1/history?symbols=*&from=1");
    assert.equal(fast.status, 200);
    assert.equal(fast.headers["transfer-encoding"], "chunked");
    assert.equal(fast.headers["content-type"], "application/x-ndjson");
    assert.equal(fast.body, all.map((o) => JSON.stringify(o) + "\n").join(""));
    const slow = await fetchText(daemon.port, "/v1/history?symbols=*&from=1", 1500);
    assert.equal(slow.body, fast.body);
    const msft = await fetchText(
      daemon.port,
      "/v1/history?symbols=MSFT&from=100&to=30000&types=quote&format=json",
    );
    assert.deepEqual(
      JSON.parse(msft.body),
      all.filter(
        (o) =>
          o.symbol === "MSFT" && o.type === "quote" && (o.seq as number) >= 100 && (o.seq as number) <= 30000,
      ),
    );
  });

  test("a bad parameter gets 400 with the error body; /v1/last and /v1/symbols answer JSON", async () => {
    const bad = await fetchText(daemon.port, "/v1/history?symbols=*&from=1&limit=0");
    assert.equal(bad.status, 400);
    assert.deepEqual(JSON.parse(bad.body), {
      op: "error",
      code: "BAD_REQUEST",
      message: 'limit: expected a whole number ≥ 1, got "0"',
    });
    const all = walObjects(daemon.data);
    const last = JSON.parse((await fetchText(daemon.port, "/v1/last?symbols=NVDA,MSFT")).body);
    const lastOf = (symbol: string, type: string) =>
      all.filter((o) => o.symbol === symbol && o.type === type).at(-1);
    assert.deepEqual(
      new Set(last.map((o: { seq: number }) => o.seq)),
      new Set(["NVDA", "MSFT"].flatMap((s) => [lastOf(s, "trade")!.seq, lastOf(s, "quote")!.seq])),
    );
    const symbols = JSON.parse((await fetchText(daemon.port, "/v1/symbols")).body);
    assert.deepEqual(
      symbols.symbols.map((s: { symbol: string; ticks: number }) => [s.symbol, s.ticks]).sort(),
      [
        ["AAPL", all.filter((o) => o.symbol === "AAPL").length],
        ["MSFT", all.filter((o) => o.symbol === "MSFT").length],
        ["NVDA", all.filter((o) => o.symbol === "NVDA").length],
      ],
    );
  });

  test("an answer counts as a connection of its client's address: past --max-connections-per-ip, 429", async () => {
    const feeds = [
      await Client.connect(daemon.url("/v1/feed")),
      await Client.connect(daemon.url("/v1/feed")),
    ];
    try {
      const refused = await fetchText(daemon.port, "/v1/history?symbols=*&from=1&limit=1");
      assert.equal(refused.status, 429);
      assert.equal(JSON.parse(refused.body).code, "LIMIT_REACHED");
      feeds.pop()!.close();
      // The close reaches the server's count shortly after.
      let status = 0;
      for (let i = 0; i < 50 && status !== 200; i++) {
        status = (await fetchText(daemon.port, "/v1/history?symbols=*&from=1&limit=1")).status;
        if (status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(status, 200);
    } finally {
      for (const f of feeds) f.close();
    }
  });
});
