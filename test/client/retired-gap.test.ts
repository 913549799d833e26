/**
 * A replay from before what retention kept: the server starts at the oldest seq it has, after
 * `{"op":"gap",…,"reason":"retired"}` naming the seqs gone for good. The client must report them and go on,
 * not resubscribe (which would get the same gap, forever). A stand-in server speaks the daemon's protocol
 * here, since retiring data on demand takes the daemon hours of retention settings and indexing.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { test } from "node:test";
import { WebSocketServer } from "ws";
import { TickringClient } from "../../src/client/index.js";
import { FrameEncoder } from "../../src/frame/codec.js";

test("a retired gap is reported once and the replay goes on after it", { timeout: 60_000 }, async () => {
  const enc = new FrameEncoder();
  const frames = Buffer.concat(
    [5, 6, 7].map((seq) =>
      Buffer.from(enc.encode({ type: "trade", symbol: "R", price: 1, size: 1 }, BigInt(seq), 1n)),
    ),
  );
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await once(server, "listening");
  let connections = 0;
  server.on("connection", (ws) => {
    connections++;
    ws.on("message", () => {
      ws.send('{"op":"subscribed","id":1,"feed":"historical","from_seq":5,"to_seq":7}');
      ws.send('{"op":"gap","id":1,"from":1,"to":4,"reason":"retired"}');
      ws.send(frames);
      ws.send('{"op":"replay_done","id":1,"last_seq":7}');
    });
  });
  try {
    const client = new TickringClient({
      url: `ws://127.0.0.1:${(server.address() as { port: number }).port}`,
    });
    const retired: [number, number][] = [];
    const seqs: number[] = [];
    let done = 0;
    await client.subscribe(
      { symbols: "*", feed: "historical", from: { seq: 1 }, to: { seq: 7 } },
      {
        frame: (_f, seq) => seqs.push(seq),
        retired: (from, to) => retired.push([from, to]),
        done: (last) => (done = last),
      },
    );
    const deadline = Date.now() + 5000;
    while (done === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(done, 7);
    assert.deepEqual(retired, [[1, 4]]);
    assert.deepEqual(seqs, [5, 6, 7]);
    assert.equal(connections, 1, "no resubscription");
  } finally {
    server.close();
  }
});
