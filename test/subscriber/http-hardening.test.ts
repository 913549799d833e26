/**
 * The HTTP data endpoints under what main's hardening asks of every client-facing path: history they cannot
 * read is said where it falls (never a cut answer), a client that stops reading is cut having held about a
 * chunk, and what a client may ask is bounded with stable codes (symbols, the worker's replay slots, its
 * address's connections, the last values of `/v1/last`). Real WAL files, damaged on purpose.
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { TickringError } from "../../src/errors.js";
import { FrameView, frameSeq, frameSymbolKey, frameLength } from "../../src/frame/codec.js";
import { frameToObject } from "../../src/frame/json.js";
import { Store, Wal } from "../../src/storage/index.js";
import { LastValueCache } from "../../src/subscriber/last-value-cache.js";
import { ReplayScheduler } from "../../src/subscriber/replay-scheduler.js";
import { CHUNK_BYTES } from "../../src/subscriber/text-chunks.js";
import { bruteForceBars, barRecordsOf, type TradeRecord } from "../support/bars.js";
import { answer, FakeHttpSink, httpHistory } from "../support/fake-http.js";
import { recordOffsets, xorByte } from "../storage/disk.js";
import { makeFrames, tempDir } from "../storage/helpers.js";

const N = 600;
const FRAMES = makeFrames(1, N);
const tmp = tempDir("tickring-http-hardening-");
const walDir = join(tmp.dir, "wal");
let store: Store;
const sources = { walDir, store: async () => store };
/** Seqs retention took (the first segment), and the unreadable range (a damaged record to its segment's end). */
let retired: [number, number];
let unreadable: [number, number];

before(async () => {
  const { wal } = await Wal.open({ dir: walDir, fsync: "os", segmentBytes: 8192 });
  FRAMES.forEach((f, i) => wal.append(f, i + 1));
  await wal.flush();
  const segs = wal.segments();
  await wal.close();
  store = await Store.open({ dir: join(tmp.dir, "store") });
  // Nothing indexed: what the WAL cannot give, nothing gives.
  const s = segs[2];
  const bad = s.firstSeq + 3;
  xorByte(s.file, recordOffsets(s.file)[bad - s.firstSeq] + 30, 0x21);
  unreadable = [bad, s.lastSeq];
  // Retention's way: the oldest segment and its index go.
  rmSync(segs[0].file);
  rmSync(segs[0].file.replace(/\.log$/, ".idx"), { force: true });
  retired = [1, segs[0].lastSeq];
});

after(async () => {
  await store.close();
  tmp.cleanup();
});

const view = new FrameView();
const objectOf = (seq: number) => frameToObject(view.wrap(FRAMES[seq - 1]));
const readable = (seq: number) => seq > retired[1] && (seq < unreadable[0] || seq > unreadable[1]);

test("history says the seqs it cannot give where they fall, in every format, and the answer goes on", async () => {
  const http = httpHistory(sources, N);
  const gap = (g: [number, number], reason: string) => ({ op: "gap", from: g[0], to: g[1], reason });
  const want = [
    gap(retired, "retired"),
    ...Array.from({ length: unreadable[0] - retired[1] - 1 }, (_, i) => objectOf(retired[1] + 1 + i)),
    gap(unreadable, "unreadable"),
    ...Array.from({ length: N - unreadable[1] }, (_, i) => objectOf(unreadable[1] + 1 + i)),
  ];
  const ndjson = await answer(http, "/v1/history", "symbols=*&from=1");
  assert.equal(ndjson.status, "200 OK");
  assert.ok(ndjson.ended && !ndjson.cut, "a whole answer, not a cut one");
  assert.deepEqual(
    ndjson.body
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l)),
    want,
  );
  const json = await answer(http, "/v1/history", "symbols=*&from=1&format=json");
  assert.deepEqual(JSON.parse(json.body), want);
  const csv = await answer(http, "/v1/history", "symbols=*&from=1&format=csv&types=trade");
  const lines = csv.body.trimEnd().split("\n");
  assert.deepEqual(
    lines.filter((l) => l.startsWith("#")),
    [`#gap,${retired[0]},${retired[1]},retired`, `#gap,${unreadable[0]},${unreadable[1]},unreadable`],
  );
  assert.deepEqual(
    lines
      .slice(1)
      .filter((l) => !l.startsWith("#"))
      .map((l) => Number(l.split(",")[0])),
    want.filter((o) => !("op" in o)).map((o) => (o as { seq: number }).seq),
  );
});

test("bars from a range with gaps: the gaps are said, the bars are those of the trades history gave", async () => {
  const http = httpHistory(sources, N);
  const res = await answer(http, "/v1/bars", "symbols=*&from=1&interval=1s");
  assert.ok(res.ended && !res.cut);
  const records = res.body
    .trimEnd()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    records.filter((r) => r.op === "gap").map((r) => [r.from, r.to, r.reason]),
    [
      [...retired, "retired"],
      [...unreadable, "unreadable"],
    ],
  );
  const trades: TradeRecord[] = [];
  for (let seq = 1; seq <= N; seq++) {
    if (!readable(seq)) continue;
    const o = objectOf(seq);
    trades.push({
      symbol: o.symbol,
      seq,
      tsEvent: BigInt(o.ts_event),
      price: o.price as number,
      size: o.size as number,
    });
  }
  assert.deepEqual(
    barRecordsOf(records.filter((r) => r.op !== "gap")),
    bruteForceBars(trades, 1_000_000_000n),
  );
});

test(
  "a client that stops reading is cut after the stall time, having held about a chunk",
  { timeout: 20_000 },
  async () => {
    const http = httpHistory(sources, N, { stallMs: 50 });
    const res = new FakeHttpSink();
    res.slow = true;
    res.stalled = true;
    http.serve("/v1/history", "symbols=*&from=1&format=json", res, "10.0.0.1");
    await res.finished();
    assert.ok(res.cut, "cut, not ended");
    assert.ok(res.maxUnread > 0 && res.maxUnread <= 2 * CHUNK_BYTES, `${res.maxUnread} bytes held unread`);
  },
);

test("an answer holds a connection of its client's address while it streams; past the limit it is refused", async () => {
  const held = new Map<string, number>();
  const http = httpHistory(sources, N, {
    stallMs: 60_000,
    admit: (ip) => {
      const n = held.get(ip) ?? 0;
      if (n >= 1) return new TickringError("LIMIT_REACHED", "at most 1 connections per client address");
      held.set(ip, n + 1);
      return undefined;
    },
    release: (ip) => held.set(ip, held.get(ip)! - 1),
  });
  const slow = new FakeHttpSink();
  slow.slow = true;
  slow.stalled = true;
  http.serve("/v1/history", "symbols=*&from=1&format=json", slow, "10.0.0.1");
  const refused = await answer(http, "/v1/history", "symbols=*&from=1", false, "10.0.0.1");
  assert.equal(refused.status, "429 LIMIT_REACHED");
  assert.equal(JSON.parse(refused.body).code, "LIMIT_REACHED");
  const other = await answer(http, "/v1/last", "symbols=*", false, "10.0.0.2");
  assert.equal(other.status, "200 OK");
  assert.equal(held.get("10.0.0.2"), 0, "released once answered");
  slow.abort();
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(held.get("10.0.0.1"), 0, "released when the client went away");
  const again = await answer(http, "/v1/history", "symbols=*&from=1&limit=1", false, "10.0.0.1");
  assert.equal(again.status, "200 OK");
});

test("symbols past --max-symbols and answers past the worker's replay slots are 429 LIMIT_REACHED", async () => {
  const scheduler = new ReplayScheduler();
  const http = httpHistory(sources, N, { scheduler, limits: { symbols: 2, replaysPerWorker: 3 } });
  const many = await answer(http, "/v1/history", "symbols=A,B,C&from=1");
  assert.equal(many.status, "429 LIMIT_REACHED");
  assert.match(JSON.parse(many.body).message, /at most 2 symbols per request/);
  // The worker's WebSocket replays hold its slots too.
  scheduler.held = 3;
  const busy = await answer(http, "/v1/history", "symbols=A&from=1");
  assert.equal(busy.status, "429 LIMIT_REACHED");
  scheduler.held = 2;
  const ok = await answer(http, "/v1/history", `symbols=A&from=${N}`);
  assert.equal(ok.status, "200 OK");
  assert.equal(scheduler.held, 2, "the answer gave its slot back");
});

test("answers streaming at once take turns and each is whole", async () => {
  const http = httpHistory(sources, N);
  const one = await answer(http, "/v1/history", "symbols=*&from=1&format=csv");
  const all = await Promise.all(
    [false, true, false, true].map((slow) =>
      answer(http, "/v1/history", "symbols=*&from=1&format=csv", slow),
    ),
  );
  for (const res of all) assert.equal(res.body, one.body);
});

test("/v1/last answers at most a send limit's worth of last values, and says when it left some out", async () => {
  const lvc = new LastValueCache();
  for (let seq = N - 20; seq <= N; seq++) {
    const f = FRAMES[seq - 1];
    lvc.update(frameSymbolKey(f, 0), frameSeq(f, 0), f, 0, frameLength(f, 0));
  }
  const size = frameLength(FRAMES[N - 1], 0);
  const whole = await answer(httpHistory(sources, N, { lastValues: lvc }), "/v1/last", "symbols=*");
  assert.equal(JSON.parse(whole.body).length, 8, "one per symbol");
  assert.equal(whole.headers["x-tickring-last-values"], undefined);
  const http = httpHistory(sources, N, { lastValues: lvc, sendLimit: { bytes: 3 * size } });
  const part = await answer(http, "/v1/last", "symbols=*");
  assert.equal(part.headers["x-tickring-last-values"], "partial");
  assert.equal(JSON.parse(part.body).length, 3);
});
