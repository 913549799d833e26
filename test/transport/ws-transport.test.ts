/**
 * The `ws` transport in-process, through the same App surface the edge uses: backpressure and drain, the
 * copy on send, fragments joined, close codes, the idle timeout, the route's own upgrade, HTTP routing and
 * listening.
 */
import assert from "node:assert/strict";
import type { Server } from "node:http";
import { connect } from "node:net";
import { after, describe, test } from "node:test";
import WebSocket from "ws";
import {
  type App,
  bytesText,
  type ListenToken,
  type WsBehavior,
  type WsConnection,
} from "../../src/transport/transport.js";
import { wsTransport } from "../../src/transport/ws-transport.js";

interface Conn {
  n?: number;
  ip?: string;
}

/** A behaviour that records what the route saw. */
function recorder(overrides: Partial<WsBehavior<Conn>> = {}) {
  const seen = {
    opened: [] as WsConnection<Conn>[],
    messages: [] as { text: string; isBinary: boolean }[],
    drains: 0,
    closes: 0,
  };
  const behavior: WsBehavior<Conn> = {
    maxPayloadLength: 1024,
    maxBackpressure: 64 * 1024,
    idleTimeout: 120,
    sendPingsAutomatically: true,
    open: (ws) => seen.opened.push(ws),
    message: (_ws, m, isBinary) =>
      seen.messages.push({ text: Buffer.from(m as Uint8Array).toString(), isBinary }),
    drain: () => seen.drains++,
    close: () => seen.closes++,
    ...overrides,
  };
  return { seen, behavior };
}

const listening: ListenToken[] = [];
after(() => {
  for (const t of listening) wsTransport.closeListen(t);
});

async function listen(app: App): Promise<number> {
  const token = await new Promise<ListenToken | false>((resolve) => app.listen("127.0.0.1", 0, resolve));
  assert.ok(token !== false, "listens");
  listening.push(token);
  return wsTransport.localPort(token);
}

async function open(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
  return ws;
}

const until = async (done: () => boolean, what: string) => {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(done(), `timed out waiting for ${what}`);
};

describe("ws transport", () => {
  test("a slow client: sends report backpressure, bytes are copied at send, drain follows, and past maxBackpressure a send is dropped", async () => {
    const { seen, behavior } = recorder({ maxBackpressure: 256 * 1024 });
    const app = wsTransport.app().ws("/feed", behavior);
    const port = await listen(app);
    const client = await open(`ws://127.0.0.1:${port}/feed`);
    const received: Buffer[] = [];
    client.on("message", (d: Buffer) => received.push(d));
    await until(() => seen.opened.length === 1, "open");
    // The client stops reading: the kernel's buffers fill and the server's socket buffers the rest.
    (client as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    const ws = seen.opened[0];
    const chunk = new Uint8Array(16 * 1024);
    let sent = 0;
    let status = 1;
    for (; status === 1 && sent < 4096; sent++) {
      chunk.fill(sent % 251);
      status = ws.send(chunk, true);
    }
    assert.equal(status, 0, "a send that could not all be written returns 0");
    assert.ok(ws.getBufferedAmount() > 0);
    // Sending from a buffer we then overwrite: what was sent must not change (uWS copies; so must we).
    chunk.fill(255);
    const statuses: number[] = [];
    while (ws.getBufferedAmount() <= 256 * 1024) statuses.push(ws.send(chunk, true));
    assert.equal(ws.send(chunk, true), 2, "past maxBackpressure a send is dropped");
    const kept = sent + statuses.length;
    chunk.fill(7);
    (client as unknown as { _socket: { resume(): void } })._socket.resume();
    await until(() => received.length === kept, "every message kept");
    await until(() => seen.drains > 0 && ws.getBufferedAmount() === 0, "drain");
    for (let i = 0; i < sent; i++) assert.equal(received[i][0], i % 251, `message ${i}`);
    for (let i = sent; i < kept; i++) assert.equal(received[i][0], 255, `message ${i}`);
    client.close();
  });

  test("fragments of one message arrive as one message; text and binary keep their kind", async () => {
    const { seen, behavior } = recorder();
    const port = await listen(wsTransport.app().ws("/feed", behavior));
    const client = await open(`ws://127.0.0.1:${port}/feed`);
    const got: { data: Buffer; isBinary: boolean }[] = [];
    client.on("message", (data: Buffer, isBinary) => got.push({ data, isBinary }));
    await until(() => seen.opened.length === 1, "open");
    const ws = seen.opened[0];
    const bytes = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    ws.cork(() => {
      ws.sendFirstFragment(bytes.subarray(0, 2), true);
      ws.sendFragment(bytes.subarray(4, 6));
      ws.sendLastFragment(bytes.subarray(8, 9));
    });
    bytes.fill(0);
    ws.send('{"op":"pong"}', false);
    await until(() => got.length === 2, "two messages");
    assert.deepEqual([...got[0].data], [1, 2, 5, 6, 9]);
    assert.equal(got[0].isBinary, true);
    assert.equal(got[1].data.toString(), '{"op":"pong"}');
    assert.equal(got[1].isBinary, false);
    client.close();
  });

  test("messages reach the route; end() sends its code and reason and calls close at once, once", async () => {
    const { seen, behavior } = recorder();
    const port = await listen(wsTransport.app().ws("/feed", behavior));
    const client = await open(`ws://127.0.0.1:${port}/feed`);
    const closed = new Promise<[number, string]>((r) =>
      client.on("close", (c, why) => r([c, why.toString()])),
    );
    client.send("hello");
    client.send(Buffer.from([1, 2]));
    await until(() => seen.messages.length === 2, "messages");
    assert.deepEqual(seen.messages[0], { text: "hello", isBinary: false });
    assert.equal(seen.messages[1].isBinary, true);
    seen.opened[0].end(1008, "x".repeat(200));
    assert.equal(seen.closes, 1, "close handler ran at once");
    seen.opened[0].end(1011, "again");
    seen.opened[0].close();
    const [code, reason] = await closed;
    assert.equal(code, 1008);
    assert.equal(reason, "x".repeat(123), "the reason is cut to what a close frame holds");
    assert.equal(seen.closes, 1);
    assert.equal(seen.opened[0].send("late", false), 2, "nothing is sent after close");
  });

  test("over maxPayloadLength closes with 1009, invalid UTF-8 with 1007; the client closing calls close", async () => {
    const { seen, behavior } = recorder({ maxPayloadLength: 100 });
    const port = await listen(wsTransport.app().ws("/feed", behavior));
    const big = await open(`ws://127.0.0.1:${port}/feed`);
    const bigClosed = new Promise<number>((r) => big.on("close", r));
    big.send(Buffer.alloc(101));
    assert.equal(await bigClosed, 1009);
    const bad = await open(`ws://127.0.0.1:${port}/feed`);
    const badClosed = new Promise<number>((r) => bad.on("close", r));
    bad.send(Buffer.from([0xc3, 0x28]), { binary: false });
    assert.equal(await badClosed, 1007);
    await until(() => seen.closes === 2, "close handlers");
    assert.equal(seen.messages.length, 0);
  });

  test("an idle client is pinged, answers, and stays; one that cannot answer is cut after idleTimeout", async () => {
    const { seen, behavior } = recorder({ idleTimeout: 0.4 });
    const port = await listen(wsTransport.app().ws("/feed", behavior));
    const live = await open(`ws://127.0.0.1:${port}/feed`);
    let pings = 0;
    live.on("ping", () => pings++);
    const mute = await open(`ws://127.0.0.1:${port}/feed`);
    // A client whose socket is paused reads no ping, so it answers none.
    (mute as unknown as { _socket: { pause(): void } })._socket.pause();
    await until(() => seen.closes === 1, "the mute client cut");
    assert.ok(pings > 0, "the live one was pinged");
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(live.readyState, WebSocket.OPEN, "the live client stays");
    assert.equal(seen.closes, 1);
    live.close();
    mute.terminate();
  });

  test("HTTP: a method's route over any, an exact path over a prefix; query strings are not part of the path", async () => {
    const app = wsTransport
      .app()
      .get("/healthz", (res) =>
        res.writeStatus("200 OK").writeHeader("content-type", "application/json").end("{}", true),
      )
      .post("/v1/admin/*", (res, req) => res.end(`admin ${req.getUrl()} ${req.getHeader("authorization")}`))
      .any("/*", (res, req) =>
        res.writeStatus("404 NOT_FOUND").end(`${req.getMethod()} ${req.getUrl()}`, true),
      );
    const port = await listen(app);
    const base = `http://127.0.0.1:${port}`;
    const health = await fetch(`${base}/healthz?x=1`);
    assert.equal(health.status, 200);
    assert.equal(health.headers.get("content-type"), "application/json");
    assert.equal(health.headers.get("connection"), "close");
    const admin = await fetch(`${base}/v1/admin/snapshot`, {
      method: "POST",
      headers: { authorization: "Bearer t" },
    });
    assert.equal(await admin.text(), "admin /v1/admin/snapshot Bearer t");
    const other = await fetch(`${base}/v1/admin/snapshot`);
    assert.equal(other.status, 404);
    assert.equal(other.statusText, "NOT_FOUND");
    assert.equal(await other.text(), "get /v1/admin/snapshot");
  });

  test("the route's upgrade refuses with an HTTP answer, or admits with user data that open and close get; a bad handshake never reaches it", async () => {
    const upgrades: string[] = [];
    const closedWith: Conn[] = [];
    const { seen, behavior } = recorder({
      upgrade: (res, req, context) => {
        const ip = bytesText(res.getRemoteAddressAsText());
        upgrades.push(ip);
        if (upgrades.length > 1) {
          res.cork(() =>
            res
              .writeStatus("429 LIMIT_REACHED")
              .writeHeader("content-type", "application/json")
              .end('{"op":"error","code":"LIMIT_REACHED"}', true),
          );
          return;
        }
        res.upgrade<Conn>(
          { ip },
          req.getHeader("sec-websocket-key"),
          req.getHeader("sec-websocket-protocol"),
          req.getHeader("sec-websocket-extensions"),
          context,
        );
      },
      close: (ws) => closedWith.push(ws.getUserData()),
    });
    const port = await listen(wsTransport.app().ws("/feed", behavior));
    const admitted = await open(`ws://127.0.0.1:${port}/feed`);
    await until(() => seen.opened.length === 1, "open");
    assert.deepEqual(seen.opened[0].getUserData(), { ip: "127.0.0.1" });
    const refused = new WebSocket(`ws://127.0.0.1:${port}/feed`);
    const answer = await new Promise<{ status: number; type: string; body: string }>((resolve) =>
      refused.on("unexpected-response", (_req, res) => {
        let body = "";
        res.on("data", (d: Buffer) => (body += d));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, type: String(res.headers["content-type"]), body }),
        );
      }),
    );
    assert.deepEqual(answer, {
      status: 429,
      type: "application/json",
      body: '{"op":"error","code":"LIMIT_REACHED"}',
    });
    // A handshake without a key is refused by ws (400) before the route counts it.
    const raw = connect(port, "127.0.0.1");
    raw.write("GET /feed HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\r\n");
    let response = "";
    raw.on("data", (d: Buffer) => (response += d));
    await new Promise((r) => raw.on("close", r));
    assert.match(response, /^HTTP\/1.1 400 /);
    assert.equal(upgrades.length, 2);
    admitted.close();
    await until(() => closedWith.length === 1, "close");
    assert.equal(closedWith[0], seen.opened[0].getUserData(), "close gets the user data open got");
    assert.equal(seen.opened.length, 1);
  });

  test("the client's close frame calls close before the answer reaches the client", async () => {
    let answered = false;
    let answeredAtClose: boolean | undefined;
    const { behavior } = recorder({ close: () => (answeredAtClose = answered) });
    const port = await listen(wsTransport.app().ws("/feed", behavior));
    const client = await open(`ws://127.0.0.1:${port}/feed`);
    const socket = (client as unknown as { _socket: import("node:net").Socket })._socket;
    client.close(1000);
    socket.on("data", () => (answered = true));
    await new Promise((r) => client.on("close", r));
    assert.equal(answeredAtClose, false, "close ran before the server's close frame arrived");
  });

  test("an error after listening (a failed accept: EMFILE) neither ends the thread nor fails the listen", async () => {
    const { behavior } = recorder();
    const app = wsTransport.app().ws("/feed", behavior);
    const results: (ListenToken | false)[] = [];
    await new Promise<void>((resolve) =>
      app.listen("127.0.0.1", 0, (token) => {
        results.push(token);
        resolve();
      }),
    );
    const token = results[0];
    assert.ok(token !== false);
    listening.push(token);
    const { server } = token as { server: Server };
    for (let i = 0; i < 2; i++)
      server.emit("error", Object.assign(new Error("accept EMFILE"), { code: "EMFILE", syscall: "accept" }));
    assert.equal(results.length, 1, "the listen callback ran once");
    const client = await open(`ws://127.0.0.1:${wsTransport.localPort(token)}/feed`);
    client.close();
  });

  test(
    "HTTP streaming as uWS: write says when the client is behind, onWritable when it caught up; close cuts a body half-way; the query raw and by key",
    { timeout: 30_000 },
    async () => {
      const seen: { query?: string; sym?: string; wrote: boolean[]; writable: number[] } = {
        wrote: [],
        writable: [],
      };
      const chunk = "x".repeat(64 * 1024);
      const app = wsTransport
        .app()
        .get("/stream", (res, req) => {
          seen.query = req.getQuery();
          seen.sym = req.getQuery("sym");
          res.onAborted(() => {});
          res.cork(() => res.writeStatus("200 OK").writeHeader("content-type", "text/plain"));
          const more = (): void => {
            while (seen.wrote.length < 64) {
              // Corked, as the data endpoints write (uWS wants writes outside the handler corked).
              let ok = true;
              res.cork(() => (ok = res.write(chunk)));
              seen.wrote.push(ok);
              if (!ok) return;
            }
            res.end("end");
          };
          res.onWritable((offset) => {
            seen.writable.push(offset);
            more();
            return true;
          });
          more();
        })
        .get("/cut", (res) => {
          res.writeStatus("200 OK").write("half");
          setTimeout(() => res.close(), 10);
        });
      const port = await listen(app);
      const got = await fetch(`http://127.0.0.1:${port}/stream?sym=A%20B&x=1`);
      const body = await got.text();
      assert.equal(seen.query, "sym=A%20B&x=1");
      assert.equal(seen.sym, "A B");
      assert.equal(body.length, 64 * chunk.length + 3, "every chunk arrived, then the end");
      assert.ok(seen.wrote.includes(false), "some write found the client behind");
      assert.ok(seen.writable.length > 0, "onWritable ran");
      assert.equal(seen.writable[0], chunk.length * (seen.wrote.indexOf(false) + 1), "at the body's offset");
      await assert.rejects(async () => (await fetch(`http://127.0.0.1:${port}/cut`)).text());
    },
  );

  test("an upgrade to a path with no WebSocket route is refused with 404", async () => {
    const port = await listen(wsTransport.app().ws("/feed", recorder().behavior));
    const ws = new WebSocket(`ws://127.0.0.1:${port}/nope`);
    const status = await new Promise<number>((resolve) =>
      ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0)),
    );
    assert.equal(status, 404);
  });

  test("listening on a port held by a server without SO_REUSEPORT fails with false", async () => {
    const port = await listen(wsTransport.app());
    const { createServer } = await import("node:net");
    const holder = createServer();
    await new Promise<void>((r) => holder.listen({ host: "127.0.0.1", port: 0, exclusive: true }, () => r()));
    const held = (holder.address() as { port: number }).port;
    const token = await new Promise((resolve) => wsTransport.app().listen("127.0.0.1", held, resolve));
    assert.equal(token, false);
    holder.close();
    assert.ok(port > 0);
  });
});
