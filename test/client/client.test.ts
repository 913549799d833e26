/**
 * The client library against the real daemon: when subscribe() settles, what a live replay reports, and
 * recovery from malformed messages and killed connections with every seq once.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import WebSocket from "ws";
import {
  ClientError,
  type SubscriptionHandlers,
  TickringClient,
  type WebSocketConstructor,
} from "../../src/client/index.js";
import { Client, type Daemon, startDaemon, tempDir } from "../support/daemon.js";
import { FeedProxy, ingest, refusedPort } from "./helpers.js";

/** Resolves when `done()` holds, polling; fails after `timeoutMs`. */
async function until(done: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

describe("client library", { timeout: 120_000 }, () => {
  const dir = tempDir();
  let daemon: Daemon;
  let url: string;
  let last: number;
  before(async () => {
    daemon = await startDaemon(dir.path);
    url = `ws://127.0.0.1:${daemon.port}`;
    last = await ingest(daemon, 3000);
  });
  after(async () => {
    const code = await daemon.stop();
    dir.remove();
    assert.equal(code, 0, daemon.stderr());
  });

  test("subscribe() rejects against a dead server, whether or not reconnect is on", async () => {
    const port = await refusedPort();
    for (const reconnect of [undefined, false as const, { maxAttempts: 5 }]) {
      const client = new TickringClient({ url: `ws://127.0.0.1:${port}`, reconnect });
      const reconnects: number[] = [];
      await assert.rejects(
        client.subscribe({ symbols: "*" }, { frame: () => {}, reconnecting: (a) => reconnects.push(a) }),
        (err: ClientError) => {
          assert.ok(err instanceof ClientError);
          assert.equal(err.code, "UNAVAILABLE");
          assert.match(err.message, /ECONNREFUSED/);
          assert.equal((err.cause as ClientError).code, "ECONNREFUSED");
          return true;
        },
      );
      assert.deepEqual(reconnects, [], "the first connection is not retried");
    }
  });

  test("a WebSocket that reports an error and never a close (Node 22's after a refused connect) still fails subscribe()", async () => {
    class ErrorOnly {
      binaryType = "";
      readyState = 0;
      onopen: (() => void) | null = null;
      onmessage: (() => void) | null = null;
      onerror: ((ev: unknown) => void) | null = null;
      onclose: (() => void) | null = null;
      constructor() {
        setTimeout(() => this.onerror?.({ message: "Received network error or non-101 status code." }), 5);
      }
      send(): void {}
      close(): void {}
    }
    const client = new TickringClient({ url, WebSocket: ErrorOnly as unknown as WebSocketConstructor });
    await assert.rejects(client.subscribe({ symbols: "*" }, { frame: () => {} }), (err: ClientError) => {
      assert.equal(err.code, "UNAVAILABLE");
      assert.match(err.message, /Received network error/);
      return true;
    });
  });

  test("subscribe() rejects with the server's code when it refuses the request", async () => {
    const client = new TickringClient({ url });
    const errors: ClientError[] = [];
    await assert.rejects(
      client.subscribe({ symbols: ["X".repeat(65)] }, { frame: () => {}, error: (e) => errors.push(e) }),
      (err: ClientError) =>
        err instanceof ClientError && err.code === "BAD_REQUEST" && /symbols/.test(err.message),
    );
    assert.deepEqual(errors, [], "a rejection is not reported twice");
  });

  test("subscribe() resolves once the server accepted the subscription", async () => {
    const client = new TickringClient({ url });
    const seqs: number[] = [];
    let done = 0;
    const sub = await client.subscribe(
      { symbols: "*", feed: "historical", from: { seq: 11 }, to: { seq: 20 } },
      { frame: (_f, seq) => seqs.push(seq), done: (s) => (done = s) },
    );
    await until(() => done !== 0, "replay_done");
    assert.equal(done, 20);
    assert.deepEqual(seqs, range(11, 20));
    assert.equal(sub.lastSeq, 20);
  });

  test("live() marks where a live:true replay turns real time, once", async () => {
    const client = new TickringClient({ url });
    const seqs: number[] = [];
    const switches: [number, number][] = [];
    await client.subscribe(
      { symbols: "*", feed: "historical", from: { seq: last - 99 }, live: true },
      {
        frame: (_f, seq) => seqs.push(seq),
        // The switch-over seq, and the frames handed over before it.
        live: (lastSeq) => switches.push([lastSeq, seqs.length]),
      },
    );
    await until(() => switches.length > 0, "the switch to real time");
    const newest = await ingest(daemon, 10);
    await until(() => seqs.at(-1) === newest, "live frames");
    client.close();
    assert.equal(switches.length, 1);
    const [lastHistorical, handedBefore] = switches[0];
    assert.ok(lastHistorical >= last, `the history reached ${last}, got ${lastHistorical}`);
    assert.deepEqual(seqs.slice(0, handedBefore), range(last - 99, lastHistorical));
    assert.deepEqual(seqs, range(last - 99, newest));
  });

  test("a malformed text message is reported and the stream resumes with every seq once", async () => {
    const garbage = ["<html><body>502 Bad Gateway</body></html>", "null", '{"op":"replay_done"}'];
    const proxy = await FeedProxy.start(`${url}/v1/feed`, (n) => garbage[n - 1]);
    try {
      const client = new TickringClient({ url: proxy.url, reconnect: { initialMs: 10, maxMs: 50 } });
      const seqs: number[] = [];
      const reasons: ClientError[] = [];
      let done = 0;
      await client.subscribe(
        { symbols: "*", feed: "historical", from: { seq: 1 }, to: { seq: 2000 } },
        {
          frame: (_f, seq) => seqs.push(seq),
          done: (s) => (done = s),
          reconnecting: (_a, _d, reason) => reasons.push(reason),
        },
      );
      await until(() => done !== 0, "the end of the replay");
      assert.deepEqual(
        reasons.map((r) => r.code),
        ["BAD_MESSAGE", "BAD_MESSAGE", "BAD_MESSAGE"],
      );
      assert.match(reasons[0].message, /502 Bad Gateway/);
      assert.equal(done, 2000);
      assert.deepEqual(seqs, range(1, 2000));
    } finally {
      await proxy.close();
    }
  });

  test("loses and duplicates nothing when its connection is killed mid-stream", async () => {
    const sockets: WebSocket[] = [];
    class Tracked extends WebSocket {
      constructor(u: string) {
        super(u);
        sockets.push(this);
      }
    }
    const client = new TickringClient({
      url,
      WebSocket: Tracked as unknown as WebSocketConstructor,
      reconnect: { initialMs: 20, maxMs: 100 },
    });
    const seqs: number[] = [];
    const reasons: ClientError[] = [];
    const handlers: SubscriptionHandlers = {
      frame: (_f, seq) => seqs.push(seq),
      reconnecting: (_a, _d, reason) => reasons.push(reason),
    };
    await client.subscribe({ symbols: "*", feed: "historical", from: { seq: 1 }, live: true }, handlers);
    const pub = await Client.connect(daemon.url("/v1/ingest"));
    let killed = 0;
    for (let round = 0; round < 300 && killed < 3; round++) {
      pub.send(Array.from({ length: 20 }, () => ({ type: "trade", symbol: "K", price: 1, size: 1 })));
      await new Promise((r) => setTimeout(r, 5));
      // Every 60 rounds, cut the live connection under the client's feet.
      if (round % 60 === 59 && sockets.at(-1)!.readyState === WebSocket.OPEN) {
        sockets.at(-1)!.terminate();
        killed++;
      }
    }
    const newest = (await pub.nextOp("ack", pub.text.length - 1)).seq as number;
    pub.close();
    await until(() => (seqs.at(-1) ?? 0) >= newest && reasons.length >= killed, "every seq");
    client.close();
    assert.equal(killed, 3, "the connection was killed three times");
    assert.equal(reasons.length, 3, "and the client reconnected each time");
    for (const r of reasons) assert.equal(r.code, "CONNECTION_CLOSED");
    assert.deepEqual(seqs, range(1, seqs.length));
  });
});
