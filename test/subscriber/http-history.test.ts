import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import fc from "fast-check";
import { FrameEncoder, FrameView, type Tick } from "../../src/frame/codec.js";
import { type FrameObject, frameToObject } from "../../src/frame/json.js";
import { applyRetention, listSegments, openWalReader, Store, Wal } from "../../src/storage/index.js";
import type { HistorySources } from "../../src/subscriber/history.js";
import { HttpHistory } from "../../src/subscriber/http-history.js";
import { TYPE_COLUMNS } from "../../src/subscriber/frame-text.js";
import { CHUNK_BYTES } from "../../src/subscriber/text-chunks.js";
import { barRecordsOf, bruteForceBars, type TradeRecord } from "../support/bars.js";
import { answer, type FakeHttpSink, httpHistory } from "../support/fake-http.js";
import { BASE_TS, tempDir } from "../storage/helpers.js";

const N = 4000;
const SYMBOLS = ["AAPL", "MSFT", "BRK.B", "ES 2026-12"];
/** ts_recv of seq s: 50 ms apart, 200 s in all. */
const tsRecvOf = (s: number) => BASE_TS + BigInt(s) * 50_000_000n;

/** Seq s's tick: trades mostly (a few late by seconds, some by minutes), quotes, books and bars. */
function tickOf(s: number): Tick {
  const symbol = SYMBOLS[(s * 7) % SYMBOLS.length];
  const late = s % 97 === 0 ? 150_000_000_000n : s % 13 === 0 ? 3_000_000_000n : BigInt(s % 5) * 1_000_000n;
  const tsEvent = tsRecvOf(s) - late;
  switch (s % 10) {
    case 0:
      return {
        type: "quote",
        symbol,
        tsEvent,
        bidPrice: s / 10,
        bidSize: 1,
        askPrice: s / 10 + 0.01,
        askSize: 2,
      };
    case 1:
      return {
        type: "book",
        symbol,
        tsEvent,
        snapshot: s % 20 === 1,
        bids: [{ price: 1.5, size: s, count: 2 }],
        asks: [],
      };
    case 2:
      return {
        type: "bar",
        symbol,
        tsEvent,
        intervalNs: s % 4 === 0 ? 60_000_000_000n : 1_000_000_000n,
        open: 1,
        high: 2,
        low: 0.5,
        close: 1.5,
        volume: s,
        trades: 3,
        vwap: 1.25,
        revision: 0,
      };
    default:
      return {
        type: "trade",
        symbol,
        tsEvent,
        price: 100 + ((s * 31) % 17) / 4,
        size: s % 11,
        aggressor: s % 2 ? "buy" : "sell",
        tradeId: BigInt(s),
      };
  }
}

const tmp = tempDir("tickring-http-");
const walDir = join(tmp.dir, "wal");
const frames: Uint8Array[] = [];
const objects: FrameObject[] = [];
let store: Store;
let http: HttpHistory;
let history: HistorySources;

before(async () => {
  const enc = new FrameEncoder();
  const view = new FrameView();
  for (let s = 1; s <= N; s++) {
    frames.push(enc.encode(tickOf(s), BigInt(s), tsRecvOf(s)).slice());
    objects.push(frameToObject(view.wrap(frames[s - 1])));
  }
  const { wal } = await Wal.open({ dir: walDir, fsync: "os", segmentBytes: 64 * 1024 });
  for (const [i, f] of frames.entries()) wal.append(f, i + 1);
  wal.write();
  await wal.flush();
  store = await Store.open({ dir: join(tmp.dir, "store") });
  const r = openWalReader(walDir, 1);
  // The first 3000 seqs are indexed; retention then keeps only the newest ~200 KB of WAL: the oldest seqs
  // are only in the store, the newest only in the WAL, the middle in both.
  for (let b = r.nextSync(3000); b !== null; b = r.nextSync(3000)) await store.index(b);
  r.close();
  await applyRetention(wal, store, { walMaxBytes: 200 * 1024 });
  await wal.close();
  assert.ok(listSegments(walDir)[0].firstSeq > 1, "retention removed WAL segments");
  history = { walDir, store: async () => store };
  http = httpHistory(history, N);
});

after(async () => {
  await store.close();
  tmp.cleanup();
});

async function get(path: string, query: string, slow = false): Promise<FakeHttpSink> {
  return answer(http, path, query, slow);
}

interface Pick {
  symbols: string[] | null;
  types: ("trade" | "quote" | "book" | "bar")[] | null;
  from: number;
  to: number;
  byTime: boolean;
}
const pickArb: fc.Arbitrary<Pick> = fc
  .record({
    symbols: fc.option(fc.subarray(SYMBOLS, { minLength: 1 }), { nil: null }),
    types: fc.option(fc.subarray(["trade", "quote", "book", "bar"] as const, { minLength: 1 }), {
      nil: null,
    }),
    from: fc.integer({ min: 1, max: N }),
    to: fc.integer({ min: 1, max: N }),
    byTime: fc.boolean(),
  })
  .map((p) => ({ ...p, to: Math.max(p.from, p.to) }));

const iso = (s: number) => new Date(Number(tsRecvOf(s) / 1_000_000n)).toISOString();

function queryOf(p: Pick, format: string): string {
  const q = new URLSearchParams({ symbols: p.symbols?.join(",") ?? "*", format });
  // Times are ms: a frame's ts_recv is a whole ms, so the time bounds select the same seqs.
  q.set("from", p.byTime ? iso(p.from) : String(p.from));
  q.set("to", p.byTime ? iso(p.to) : String(p.to));
  if (p.types !== null) q.set("types", p.types.join(","));
  return q.toString();
}

function expected(p: Pick): FrameObject[] {
  return objects.filter(
    (o) =>
      o.seq >= p.from &&
      o.seq <= p.to &&
      (p.symbols === null || p.symbols.includes(o.symbol)) &&
      (p.types === null || p.types.includes(o.type as "trade")),
  );
}

/** A frame object as a CSV row spells each of its fields. */
function csvOf(o: FrameObject, column: string): string {
  const v = o[column];
  if (v === null || v === undefined) return "";
  if (Array.isArray(v))
    return v
      .map((l: { price: number; size: number; count: number }) => `${l.price}:${l.size}:${l.count}`)
      .join(" ");
  return String(v);
}

test("/v1/history equals the stored frames, in ndjson, json and csv, across the store/WAL boundary", async () => {
  await fc.assert(
    fc.asyncProperty(pickArb, async (p) => {
      const want = expected(p);
      const ndjson = await get("/v1/history", queryOf(p, "ndjson"));
      assert.equal(ndjson.status, "200 OK");
      assert.equal(ndjson.body, want.map((o) => JSON.stringify(o) + "\n").join(""));
      const json = await get("/v1/history", queryOf(p, "json"));
      assert.deepEqual(JSON.parse(json.body), want);
      const csv = await get("/v1/history", queryOf(p, "csv"));
      const [header, ...rows] = csv.body.trimEnd().split("\n");
      const types =
        p.types === null
          ? ["trade", "quote", "book", "bar"]
          : ["trade", "quote", "book", "bar"].filter((t) => p.types!.includes(t as "trade"));
      const columns = [
        "seq",
        "type",
        "symbol",
        "instrument_id",
        "ts_event",
        "ts_recv",
        ...types.flatMap((t) => TYPE_COLUMNS[t as "trade"]),
      ];
      assert.equal(header, columns.join(","));
      assert.deepEqual(
        rows,
        want.map((o) => columns.map((c) => (c === "symbol" ? o.symbol : csvOf(o, c))).join(",")),
      );
    }),
    { numRuns: 25 },
  );
});

test("/v1/history honours limit and bar intervals", async () => {
  const limited = await get("/v1/history", "symbols=*&from=1&limit=7");
  assert.deepEqual(
    limited.body
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l).seq),
    [1, 2, 3, 4, 5, 6, 7],
  );
  const minute = await get("/v1/history", "symbols=*&from=1&types=bar&bars=1m");
  const want = objects.filter((o) => o.type === "bar" && o.interval_ns === "60000000000");
  assert.deepEqual(
    minute.body
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l)),
    want,
  );
});

function barsOf(body: string) {
  return barRecordsOf(
    body
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l)),
  );
}

test("/v1/bars equals a brute-force aggregation of the range's trades, late ones included", async () => {
  await fc.assert(
    fc.asyncProperty(pickArb, fc.constantFrom("1s", "5s", "1m", "5m"), async (p, interval) => {
      const intervalNs = { "1s": 1e9, "5s": 5e9, "1m": 60e9, "5m": 300e9 }[interval]!;
      const q = new URLSearchParams({
        symbols: p.symbols?.join(",") ?? "*",
        interval,
        from: String(p.from),
        to: String(p.to),
      });
      const res = await get("/v1/bars", q.toString());
      assert.equal(res.status, "200 OK");
      const trades: TradeRecord[] = expected({ ...p, types: ["trade"] }).map((o) => ({
        symbol: o.symbol,
        seq: o.seq,
        tsEvent: BigInt(o.ts_event),
        price: o.price as number,
        size: o.size as number,
      }));
      // Rows come in order, and a revision-1 row replaces the earlier row of its bar.
      assert.deepEqual(barsOf(res.body), bruteForceBars(trades, BigInt(intervalNs)));
    }),
    { numRuns: 25 },
  );
  // The whole range has trades two and a half minutes late: the second pass corrects their 1-minute bars.
  const all = await get("/v1/bars", "symbols=*&interval=1m&from=1");
  assert.ok(all.body.includes('"revision":1'));
});

test("a client that reads slowly gets everything, and the server holds about one chunk for it", async () => {
  const fast = await get("/v1/history", "symbols=*&from=1&format=json");
  const slow = await get("/v1/history", "symbols=*&from=1&format=json", true);
  assert.equal(slow.body, fast.body);
  assert.ok(slow.body.length > 8 * CHUNK_BYTES, `a body of ${slow.body.length} characters spans many chunks`);
  assert.ok(slow.maxUnread <= 2 * CHUNK_BYTES, `at most ${slow.maxUnread} characters unread`);
  const bars = await get("/v1/bars", "symbols=*&interval=1s&from=1", true);
  assert.ok(bars.maxUnread <= 2 * CHUNK_BYTES, `bars: at most ${bars.maxUnread} characters unread`);
});

test("bad parameters get 400 BAD_REQUEST naming them; a range past the newest seq 416", async () => {
  for (const [path, query, message] of [
    ["/v1/history", "from=1", /^symbols: required/],
    ["/v1/history", "symbols=*&from=1&format=xml", /^format: expected ndjson, csv, json, got "xml"/],
    ["/v1/history", "symbols=*&from=1&types=trades", /^types\[0\]: expected one of trade, quote, book, bar/],
    ["/v1/history", "symbols=*&from=10&to=9", /^to: seq 9 is before from's seq 10/],
    ["/v1/history", "symbols=*&from=1&from=2", /^from: given more than once/],
    ["/v1/bars", "symbols=*&from=1&interval=1500ms", /^interval: expected a whole number of seconds/],
    ["/v1/bars", "symbols=*&from=1&interval=1m&types=trade", /^unknown parameter "types"/],
    ["/v1/last", "symbols=A%00B", /^symbols\[0\]: expected a symbol/],
  ] as const) {
    const res = await get(path, query);
    assert.equal(res.status, "400 BAD_REQUEST", `${path}?${query}`);
    const body = JSON.parse(res.body);
    assert.equal(body.code, "BAD_REQUEST");
    assert.match(body.message, message);
  }
  const past = await get("/v1/history", `symbols=*&from=${N + 2}`);
  assert.equal(past.status, "416 OUT_OF_RANGE");
});

test("/v1/symbols lists every symbol with its first and last seq and counts", async () => {
  const res = await get("/v1/symbols", "");
  const body = JSON.parse(res.body);
  assert.equal(body.as_of_seq, N);
  const bySymbol = new Map(body.symbols.map((s: { symbol: string }) => [s.symbol, s]));
  for (const symbol of SYMBOLS) {
    const mine = objects.filter((o) => o.symbol === symbol);
    assert.deepEqual(bySymbol.get(symbol), {
      symbol,
      first_seq: mine[0].seq,
      last_seq: mine.at(-1)!.seq,
      first_time: new Date(Number(BigInt(mine[0].ts_recv) / 1_000_000n)).toISOString(),
      last_time: new Date(Number(BigInt(mine.at(-1)!.ts_recv) / 1_000_000n)).toISOString(),
      ticks: mine.length,
      trades: mine.filter((o) => o.type === "trade").length,
      quotes: mine.filter((o) => o.type === "quote").length,
      books: mine.filter((o) => o.type === "book").length,
      bars: mine.filter((o) => o.type === "bar").length,
    });
  }
});
