/**
 * A real daemon with --auth-secret-file: who may connect, publish, subscribe to what, read metrics and use
 * admin; token refresh and expiry; limits of a token over both workers; the audit trail.
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, test } from "node:test";
import { SignJWT } from "jose";
import type { TickringClaim } from "../../src/auth/claims.js";
import { frameSeq, frameSymbolSpan } from "../../src/frame/codec.js";
import { bearer, refusedUpgrade, tokenFor, writeSecret } from "../support/auth.js";
import { Client, type Daemon, framesOf, servedOn, startDaemon, tempDir } from "../support/daemon.js";

const dir = tempDir();
const secret = writeSecret(dir.path);
const other = writeSecret(dir.path, "other");
let daemon: Daemon;

const token = (sub: string, claim: TickringClaim, ttlMs?: number) =>
  tokenFor(secret.bytes, sub, claim, ttlMs);

async function http(
  method: string,
  path: string,
  tokenText?: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${daemon.port}${path}`, {
    method,
    headers: tokenText === undefined ? headers : { ...headers, authorization: `Bearer ${tokenText}` },
  });
  return { status: res.status, body: await res.text() };
}

const codeOf = (body: string) => (JSON.parse(body) as { code: string }).code;

/** Publishes ticks (JSON) as a publisher token; resolves with the seq of the last one. */
async function publish(symbols: string[]): Promise<number> {
  const pub = await Client.connect(daemon.url("/v1/ingest"), bearer(await token("feeder", { ingest: true })));
  pub.send(symbols.map((symbol, i) => ({ type: "trade", symbol, price: 100 + i, size: 1 })));
  const ack = await pub.nextOp("ack");
  pub.close();
  return ack.seq as number;
}

/** The symbol of a size-prefixed frame. */
function symbolOf(frame: Buffer): string {
  const span = [0, 0];
  frameSymbolSpan(frame, 0, span);
  return frame.subarray(span[0], span[0] + span[1]).toString();
}

/** The first log line `match` accepts, waiting for it (a worker's lines reach the log a little later). */
async function logLine(match: (l: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  for (let i = 0; i < 100; i++) {
    const line = daemon.logs.find(match);
    if (line !== undefined) return line;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("no such log line");
}

/** A client's text frame (masked, as clients must send them) of at most 125 bytes. */
function maskedText(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = Buffer.from([1, 2, 3, 4]);
  const frame = Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, payload]);
  for (let i = 0; i < payload.length; i++) frame[6 + i] ^= mask[i % 4];
  return frame;
}

/** Waits for `c` to close; its close code. */
async function closed(c: Client): Promise<number> {
  await c.until(() => c.closeCode !== undefined, "the close");
  return c.closeCode!;
}

describe("a daemon with --auth-secret-file", () => {
  before(async () => {
    daemon = await startDaemon(dir.path, ["--auth-secret-file", secret.path, "--delay", "300ms"]);
  });
  after(async () => {
    assert.equal(await daemon.stop(), 0, daemon.stderr());
    dir.remove();
  });
  describe("authentication: every endpoint but /healthz needs a good token", () => {
    test("no token, an expired one, a wrong signature, no sub: 401 on HTTP and before the upgrade, or 4001 right after it", async () => {
      const expired = await tokenFor(
        secret.bytes,
        "alice",
        { realtime: ["*"], metrics: true },
        1000,
        Date.now() - 3600_000,
      );
      const wrongKey = await tokenFor(other.bytes, "alice", { realtime: ["*"], metrics: true, ingest: true });
      const noSub = await new SignJWT({ tickring: { metrics: true } })
        .setProtectedHeader({ alg: "HS256" })
        .sign(secret.bytes);
      const cases: [string, string, RegExp][] = [
        ["expired", expired, /^token expired at /],
        ["wrong signature", wrongKey, /bad token signature/],
        ["no sub", noSub, /no sub/],
        ["garbage", "abc.def.ghi", /malformed token/],
      ];
      for (const [what, t, message] of cases) {
        // A signature is checked right after the upgrade (the upgrade cannot wait for it): error, then 4001.
        for (const path of ["/v1/feed", "/v1/ingest"]) {
          if (what === "wrong signature") {
            const c = await Client.connect(daemon.url(path), bearer(t));
            c.send(path === "/v1/feed" ? { op: "ping" } : { type: "trade", symbol: "X", price: 1, size: 1 });
            assert.equal(await closed(c), 4001, path);
            assert.deepEqual(
              c.text.map((m) => m.code),
              ["UNAUTHORIZED"],
              "nothing answered before the refusal",
            );
            assert.match(String(c.text[0].message), message, path);
            continue;
          }
          const r = await refusedUpgrade(daemon.url(path), bearer(t));
          assert.deepEqual([r.status, r.code], [401, "UNAUTHORIZED"], `${what} ${path}`);
          assert.match(r.message, message, `${what} ${path}`);
        }
        if (what !== "wrong signature") {
          const viaQuery = await refusedUpgrade(`${daemon.url("/v1/feed")}?token=${encodeURIComponent(t)}`);
          assert.equal(viaQuery.status, 401, `${what} ?token=`);
        }
        for (const [method, path] of [
          ["GET", "/metrics"],
          ["GET", "/v1/stats"],
          ["POST", "/v1/admin/snapshot"],
        ]) {
          const r = await http(method, path, t);
          assert.deepEqual([r.status, codeOf(r.body)], [401, "UNAUTHORIZED"], `${what} ${method} ${path}`);
        }
      }
      for (const [method, path] of [
        ["GET", "/metrics"],
        ["GET", "/v1/stats"],
        ["POST", "/v1/admin/snapshot"],
      ]) {
        const r = await http(method, path);
        assert.deepEqual([r.status, codeOf(r.body)], [401, "UNAUTHORIZED"], `no token: ${method} ${path}`);
      }
      assert.equal((await http("GET", "/healthz")).status, 200);
    });

    test("without a token on the upgrade the first message must be {op:auth}: anything else, or a bad token, closes 4001", async () => {
      for (const path of ["/v1/feed", "/v1/ingest"]) {
        const c = await Client.connect(daemon.url(path));
        c.send(path === "/v1/feed" ? { op: "ping" } : { type: "trade", symbol: "AAPL", price: 1, size: 1 });
        assert.equal(await closed(c), 4001, path);
        assert.equal(c.text[0].code, "UNAUTHORIZED");
        const bad = await Client.connect(daemon.url(path));
        bad.send({ op: "auth", token: await tokenFor(other.bytes, "x", { ingest: true }) });
        assert.equal(await closed(bad), 4001, path);
        assert.match(String(bad.text[0].message), /bad token signature/);
      }
    });

    test("refusals are audited with sub, remote address and code, and counted in /metrics", async () => {
      await refusedUpgrade(daemon.url("/v1/feed"), bearer("abc.def.ghi"));
      const narrow = await Client.connect(
        daemon.url("/v1/feed"),
        bearer(await token("mallory", { realtime: ["AAPL"] })),
      );
      narrow.send({ op: "subscribe", id: 1, symbols: ["MSFT"] });
      await narrow.nextOp("error");
      narrow.close();
      await logLine(
        (l) => l.audit === "auth" && l.code === "UNAUTHORIZED" && l.remote === "127.0.0.1" && l.sub === null,
      );
      await logLine((l) => l.audit === "entitlement" && l.code === "FORBIDDEN" && l.sub === "mallory");
      // Workers publish their counters every 200 ms.
      await new Promise((r) => setTimeout(r, 300));
      const metrics = await http("GET", "/metrics", await token("ops", { metrics: true }));
      assert.equal(metrics.status, 200);
      const total = (name: string) =>
        [...metrics.body.matchAll(new RegExp(`^${name}\\{worker="\\d+"\\} (\\d+)`, "gm"))].reduce(
          (n, m) => n + Number(m[1]),
          0,
        );
      assert.ok(total("tickring_auth_refused_total") > 0);
      assert.ok(total("tickring_auth_forbidden_total") > 0);
    });
  });

  describe("permissions: each claim left out grants nothing", () => {
    test("a token without the tickring claim connects to /v1/feed and may do nothing else", async () => {
      const bare = await token("nobody", {});
      const c = await Client.connect(daemon.url("/v1/feed"), bearer(bare));
      c.send({ op: "subscribe", id: 1, symbols: ["AAPL"] });
      c.send({ op: "subscribe", id: 2, symbols: ["*"] });
      c.send({ op: "subscribe", id: 3, symbols: ["AAPL"], feed: "delayed" });
      c.send({ op: "subscribe", id: 4, symbols: ["AAPL"], feed: "historical", from: { seq: 1 } });
      await c.until(() => c.text.length === 4, "four answers");
      assert.deepEqual(
        c.text.map((m) => [m.code, m.id]),
        [1, 2, 3, 4].map((id) => ["FORBIDDEN", id]),
      );
      c.close();
      assert.equal((await refusedUpgrade(daemon.url("/v1/ingest"), bearer(bare))).status, 403);
      for (const [method, path] of [
        ["GET", "/metrics"],
        ["GET", "/v1/stats"],
        ["POST", "/v1/admin/snapshot"],
      ]) {
        const r = await http(method, path, bare);
        assert.deepEqual([r.status, codeOf(r.body)], [403, "FORBIDDEN"], `${method} ${path}`);
      }
    });

    test("ingest publishes; metrics reads /metrics and /v1/stats; admin also snapshots, audited", async () => {
      assert.ok((await publish(["AAPL"])) > 0);
      const metrics = await token("grafana", { metrics: true });
      assert.equal((await http("GET", "/metrics", metrics)).status, 200);
      assert.equal((await http("GET", "/v1/stats", metrics)).status, 200);
      assert.equal((await http("POST", "/v1/admin/snapshot", metrics)).status, 403);
      const admin = await token("root", { admin: true });
      assert.equal((await http("GET", "/metrics", admin)).status, 200);
      const snap = await http("POST", "/v1/admin/snapshot", admin);
      assert.equal(snap.status, 200, snap.body);
      const line = await logLine((l) => l.audit === "admin" && l.sub === "root");
      assert.deepEqual(
        [line?.remote, line?.action, line?.status, line?.code],
        ["127.0.0.1", "/v1/admin/snapshot", 200, "OK"],
      );
      const refusedAdmin = daemon.logs.find((l) => l.audit === "admin" && l.sub === "grafana");
      assert.equal(
        refusedAdmin,
        undefined,
        "a refused permission is an entitlement refusal, not an admin action",
      );
      // The admin claim replaces --admin-token, not the rules against web pages: those hold for it too.
      for (const [headers, expected] of [
        [{ origin: "https://somewhere.example" }, [403, "FORBIDDEN"]],
        [{ "sec-fetch-site": "cross-site" }, [403, "FORBIDDEN"]],
        [{ "content-type": "text/plain" }, [415, "UNSUPPORTED"]],
      ] as const) {
        const r = await http("POST", "/v1/admin/snapshot", admin, headers);
        assert.deepEqual([r.status, codeOf(r.body)], expected, JSON.stringify(headers));
      }
    });

    test("a token without exp is accepted (issuers should set one: tickring token create always does)", async () => {
      const forever = await new SignJWT({ tickring: { metrics: true } })
        .setProtectedHeader({ alg: "HS256" })
        .setSubject("forever")
        .sign(secret.bytes);
      assert.equal((await http("GET", "/v1/stats", forever)).status, 200);
    });
  });

  describe("entitlements: where the data is chosen", () => {
    test("a realtime subscriber entitled to AAPL and FX:* gets only those frames, named or through *", async () => {
      const t = await token("alice", { realtime: ["AAPL", "FX:*"], delayed: ["*"] });
      const named = await Client.connect(daemon.url("/v1/feed"), bearer(t));
      named.send({ op: "subscribe", id: 1, symbols: ["AAPL", "MSFT"] });
      const refused = await named.nextOp("error");
      assert.equal(refused.code, "FORBIDDEN");
      assert.equal(refused.id, 1);
      assert.match(String(refused.message), /^realtime: not entitled to "MSFT"; entitled to delayed$/);
      named.send({ op: "subscribe", id: 2, symbols: ["AAPL"] });
      const star = await Client.connect(daemon.url("/v1/feed"), bearer(t));
      star.send({ op: "subscribe", id: 1, symbols: ["*"] });
      const json = await Client.connect(`${daemon.url("/v1/feed")}?token=${t}`);
      json.send({ op: "subscribe", id: 1, symbols: ["*"], format: "json" });
      for (const c of [named, star, json])
        await c.until(() => c.text.some((m) => m.op === "subscribed"), "subscribed");
      const symbols = ["MSFT", "AAPL", "NVDA", "FX:EURUSD", "FXX", "AAPL"];
      const last = await publish([...symbols, ...symbols, "AAPL"]);
      const seen = (c: Client) =>
        c === json
          ? json.text.filter((m) => m.op === undefined).map((m) => [m.seq, m.symbol])
          : framesOf(c.binary).map((f) => [frameSeq(f, 0), symbolOf(f)]);
      for (const c of [named, star, json]) {
        await c.until(() => seen(c).some(([seq]) => seq === last), `seq ${last}`);
      }
      assert.ok(framesOf(named.binary).every((f) => symbolOf(f) === "AAPL"));
      const got = (c: Client) => [...new Set(seen(c).map(([, s]) => s))].sort();
      assert.deepEqual(got(star), ["AAPL", "FX:EURUSD"], "last values and live frames alike");
      assert.deepEqual(got(json), ["AAPL", "FX:EURUSD"]);
      assert.equal(
        seen(star).filter(([seq]) => Number(seq) > last - 13).length,
        7,
        "5 AAPL and 2 FX:EURUSD of 13",
      );
      for (const c of [named, star, json]) c.close();
    });

    test("a delayed-only user gets the delayed feed, and FORBIDDEN for realtime naming delayed", async () => {
      const t = await token("dora", { delayed: ["*"] });
      const c = await Client.connect(daemon.url("/v1/feed"), bearer(t));
      c.send({ op: "subscribe", id: 1, symbols: ["AAPL"] });
      c.send({ op: "subscribe", id: 2, symbols: ["*"] });
      await c.until(() => c.text.filter((m) => m.op === "error").length === 2, "two refusals");
      for (const e of c.text) {
        assert.equal(e.code, "FORBIDDEN");
        assert.match(String(e.message), /entitled to delayed/);
      }
      c.send({ op: "subscribe", id: 3, symbols: ["DLYD"], feed: "delayed", format: "json" });
      await c.nextOp("subscribed");
      const seq = await publish(["DLYD"]);
      await c.until(() => c.text.some((m) => m.seq === seq && m.symbol === "DLYD"), "the delayed frame");
      c.close();
    });

    test("history: the history patterns, and nothing older than history_lookback", async () => {
      const old = await publish(["HIST"]);
      await new Promise((r) => setTimeout(r, 2500));
      const recent = await publish(["HIST"]);
      const lookback = await token("hal", { history: ["HIST"], history_lookback: "2s" });
      const c = await Client.connect(daemon.url("/v1/feed"), bearer(lookback));
      const replay = (id: number, from: Record<string, unknown>, symbols = ["HIST"]) =>
        c.send({ op: "subscribe", id, symbols, feed: "historical", from, format: "json" });
      replay(1, { seq: old });
      replay(2, { time: new Date(Date.now() - 3600_000).toISOString() });
      replay(3, { seq: old }, ["OTHER"]);
      await c.until(() => c.text.filter((m) => m.op === "error").length === 3, "three refusals");
      const errors = new Map(c.text.filter((m) => m.op === "error").map((m) => [m.id, String(m.message)]));
      assert.match(errors.get(1)!, /^historical: history_lookback 2s: start at .* or later$/);
      assert.match(errors.get(2)!, /history_lookback 2s/);
      assert.match(errors.get(3)!, /^historical: not entitled to "OTHER"/);
      replay(4, { seq: recent });
      await c.until(() => c.text.some((m) => m.op === "replay_done" && m.id === 4), "the recent replay");
      assert.ok(c.text.some((m) => m.seq === recent && m.symbol === "HIST"));
      c.close();
      const unbounded = await Client.connect(
        daemon.url("/v1/feed"),
        bearer(await token("hank", { history: ["*"] })),
      );
      unbounded.send({
        op: "subscribe",
        id: 1,
        symbols: ["HIST"],
        feed: "historical",
        from: { seq: old },
        to: { seq: recent },
      });
      await unbounded.nextOp("replay_done");
      assert.equal(framesOf(unbounded.binary).length, 2);
      unbounded.close();
    });
  });

  describe("the HTTP data endpoints: the same entitlements", () => {
    test("/v1/history, /v1/bars, /v1/last and /v1/symbols need a token, hold * to its patterns, refuse others and old ranges", async () => {
      const first = await publish(["DATA1", "DATA2", "FX:GBPUSD", "DATA1"]);
      await new Promise((r) => setTimeout(r, 1200));
      const last = await publish(["DATA1", "DATA2"]);
      const all = "/v1/history?symbols=*&types=trade";
      for (const path of [
        `${all}&from=${first}`,
        "/v1/bars?symbols=*&interval=1s&from=1",
        "/v1/last?symbols=*",
        "/v1/symbols",
      ]) {
        const r = await http("GET", path);
        assert.deepEqual([r.status, codeOf(r.body)], [401, "UNAUTHORIZED"], `no token: ${path}`);
      }
      const t = await token("dana", {
        realtime: ["DATA1"],
        history: ["DATA1", "FX:*"],
        history_lookback: "1s",
      });
      const symbolsOf = (body: string) =>
        [
          ...new Set(
            body
              .trimEnd()
              .split("\n")
              .map((l) => (JSON.parse(l) as { symbol: string }).symbol),
          ),
        ].sort();
      // `*` is held to the history patterns; a named symbol outside them is refused.
      const star = await http("GET", `${all}&from=${last - 1}`, t);
      assert.equal(star.status, 200, star.body);
      assert.deepEqual(symbolsOf(star.body), ["DATA1"]);
      const viaQuery = await http("GET", `${all}&from=${last - 1}&token=${t}`);
      assert.equal(viaQuery.body, star.body, "?token= works as the header does");
      const named = await http("GET", `/v1/history?symbols=DATA2&from=${last}`, t);
      assert.deepEqual([named.status, codeOf(named.body)], [403, "FORBIDDEN"]);
      assert.match(JSON.parse(named.body).message, /^historical: not entitled to "DATA2"/);
      // Older than history_lookback: refused, as a replay would be.
      const old = await http("GET", `${all}&from=${first}`, t);
      assert.deepEqual([old.status, codeOf(old.body)], [403, "FORBIDDEN"]);
      assert.match(JSON.parse(old.body).message, /history_lookback 1s/);
      // Last values are real-time data: the realtime patterns.
      const lastValues = await http("GET", "/v1/last?symbols=*&format=ndjson", t);
      assert.deepEqual(symbolsOf(lastValues.body), ["DATA1"]);
      const listed = JSON.parse((await http("GET", "/v1/symbols", t)).body) as {
        symbols: { symbol: string }[];
      };
      assert.ok(listed.symbols.length > 0);
      assert.ok(
        listed.symbols.every((s) => s.symbol === "DATA1" || s.symbol.startsWith("FX:")),
        listed.symbols.map((s) => s.symbol).join(","),
      );
      const none = await token("nemo", { realtime: ["DATA1"] });
      const refused = await http("GET", `${all}&from=${last}`, none);
      assert.deepEqual([refused.status, codeOf(refused.body)], [403, "FORBIDDEN"], "no history at all");
    });
  });

  describe("limits of a token: answered with an error, never by dropping an older connection", () => {
    test("max_connections counts a subject over both workers", async () => {
      const t = await token("carol", { realtime: ["*"], max_connections: 2 });
      /** A connection with the token on its upgrade, once the token is verified (a ping waits for that). */
      const connect = async () => {
        const c = await Client.connect(daemon.url("/v1/feed"), bearer(t));
        c.send({ op: "ping" });
        await c.until(() => c.text.length > 0 || c.closeCode !== undefined, "an answer");
        return c;
      };
      const open = [await connect(), await connect()];
      for (const c of open) assert.equal(c.text[0].op, "pong");
      // The kernel spreads connections over the two workers: every one of these is refused wherever it lands.
      for (let i = 0; i < 8; i++) {
        const refused = await connect();
        assert.equal(await closed(refused), 4029);
        assert.equal(refused.text[0].code, "LIMIT_REACHED");
        assert.match(
          String(refused.text[0].message),
          /carol has 2 connections open, its token's max_connections/,
        );
      }
      const late = await Client.connect(daemon.url("/v1/feed"));
      late.send({ op: "auth", token: t });
      assert.equal(await closed(late), 4029);
      assert.equal(late.text[0].code, "LIMIT_REACHED");
      for (const c of open) {
        c.send({ op: "ping" });
        await c.until(() => c.text.filter((m) => m.op === "pong").length === 2, "a second pong");
      }
      open[0].close();
      await closed(open[0]);
      await new Promise((r) => setTimeout(r, 100));
      const again = await connect();
      assert.equal(again.text[0].op, "pong");
      for (const c of [again, open[1]]) c.close();
    });

    test("max_subscriptions per connection", async () => {
      const c = await Client.connect(
        daemon.url("/v1/feed"),
        bearer(await token("sam", { realtime: ["*"], max_subscriptions: 2 })),
      );
      for (let id = 1; id <= 3; id++) c.send({ op: "subscribe", id, symbols: [`S${id}`] });
      await c.until(() => c.text.length === 3, "three answers");
      assert.deepEqual(
        c.text.map((m) => m.op),
        ["subscribed", "subscribed", "error"],
      );
      assert.match(
        String(c.text[2].message),
        /at most 2 subscriptions per connection \(its token's max_subscriptions\)/,
      );
      c.close();
    });
  });

  describe("expiry and refresh", () => {
    test("a refresh before exp keeps the connection; without one it closes with 4001 at exp", async () => {
      const short = await token("erin", { realtime: ["*"] }, 2000);
      const refreshed = await Client.connect(daemon.url("/v1/feed"), bearer(short));
      const lapsed = await Client.connect(daemon.url("/v1/feed"), bearer(short));
      refreshed.send({ op: "auth", token: await token("erin", { realtime: ["*"] }) });
      const ok = await refreshed.nextOp("authenticated");
      assert.equal(ok.sub, "erin");
      assert.equal(await closed(lapsed), 4001);
      assert.equal(lapsed.text.at(-1)!.code, "UNAUTHORIZED");
      assert.match(String(lapsed.text.at(-1)!.message), /^token expired at .*: refresh it before exp/);
      refreshed.send({ op: "ping" });
      await refreshed.nextOp("pong");
      assert.equal(refreshed.closeCode, undefined);
      refreshed.close();
    });

    test("a refresh for another sub, or with other entitlements, closes with 4001", async () => {
      const changes: [string, TickringClaim][] = [
        ["mallory", { realtime: ["*"] }],
        ["frank", { realtime: ["*"], ingest: true }],
      ];
      for (const [sub, claim] of changes) {
        const first = await token("frank", { realtime: ["*"] });
        const refresh = await token(sub, claim);
        const why = sub === "mallory" ? /same sub/ : /entitlements differ/;
        const c = await Client.connect(daemon.url("/v1/feed"), bearer(first));
        c.send({ op: "ping" });
        await c.nextOp("pong");
        c.send({ op: "auth", token: refresh });
        assert.equal(await closed(c), 4001);
        assert.match(String(c.text.at(-1)!.message), why);
      }
    });
  });

  describe("upgrades", () => {
    /**
     * A WebSocket handshake by hand with `Connection: close` beside the upgrade, then `{"op":"ping"}`:
     * whether the pong comes. uWebSockets.js 20.30 cuts a socket it upgraded asynchronously inside
     * `res.cork` right after `open` when that flag is set (uWebSockets#1929), and now and then without it.
     * Node's HTTP parser (the ws transport) takes only a `Connection` that names `Upgrade` as a handshake, as
     * RFC 6455 says: there the request says both.
     */
    function pingAfterUpgrade(token: string): Promise<string> {
      const connection = servedOn(daemon) === "ws" ? "Upgrade, close" : "close";
      return new Promise((resolve) => {
        const s = connect(daemon.port, "127.0.0.1");
        let got = "";
        s.on("connect", () =>
          s.write(
            `GET /v1/feed HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: ${connection}\r\n` +
              `Authorization: Bearer ${token}\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n` +
              "Sec-WebSocket-Version: 13\r\n\r\n",
          ),
        );
        s.on("data", (d: Buffer) => {
          const first = got === "";
          got += d.toString("latin1");
          if (first && got.startsWith("HTTP/1.1 101")) s.write(maskedText('{"op":"ping"}'));
          if (got.includes('"op":"pong"')) {
            s.destroy();
            resolve("pong");
          }
        });
        s.on("close", () =>
          resolve(got.startsWith("HTTP/1.1 101") ? "cut after the upgrade" : got.slice(0, 40)),
        );
      });
    }

    test("an upgrade with a token is never cut after it opens", async () => {
      const t = await token("ursula", { realtime: ["*"] });
      for (let i = 0; i < 20; i++) assert.equal(await pingAfterUpgrade(t), "pong", `attempt ${i}`);
    });
  });

  describe("origins", () => {
    test("without --allowed-origins a web page may read /v1/feed but not publish", async () => {
      const t = await token("web", { realtime: ["*"], ingest: true });
      const page = { ...bearer(t), origin: "https://somewhere.example" };
      const feed = await Client.connect(daemon.url("/v1/feed"), page);
      feed.close();
      const r = await refusedUpgrade(daemon.url("/v1/ingest"), page);
      assert.deepEqual([r.status, r.code], [403, "FORBIDDEN"]);
      assert.match(r.message, /--allowed-origins/);
    });
  });
});
