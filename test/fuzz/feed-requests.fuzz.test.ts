/**
 * Fuzz target: the feed request parser. Requests are built from valid and invalid values for every field,
 * or are random JSON or random text. Whatever comes in, the parser throws a TickringError with a stable
 * code and a short message, or returns a request that keeps the rules (historical has from, to is not
 * before from, realtime and delayed carry nothing historical) and round-trips through the wire form.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { TickringError } from "../../src/errors.js";
import { symbolProblem } from "../../src/frame/symbol-rules.js";
import { type FeedRequest, type Position, parseFeedRequest } from "../../src/subscriber/protocol.js";
import { fuzzParams } from "./params.js";

/** A value for a field: mostly valid, sometimes absent, now and then anything. */
const either = <T>(valid: fc.Arbitrary<T>, absent = 1): fc.Arbitrary<unknown> =>
  fc.oneof(
    { weight: 10, arbitrary: valid },
    { weight: absent, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  );

const time = fc.integer({ min: 0, max: 4_102_444_800_000 }).map((ms) => new Date(ms).toISOString());
const position = fc.oneof(
  fc.record({ seq: fc.integer({ min: 1, max: 1000 }) }),
  fc.record({ time }),
  fc.record({ seq: fc.integer({ min: 1, max: 1000 }), time }),
);
const symbol = fc.oneof(
  fc.constantFrom("AAPL", "MSFT", "日本株", "*"),
  fc.string({ unit: "grapheme", minLength: 0, maxLength: 70 }),
  fc.string({ unit: "binary", maxLength: 10 }),
);
/** Fields a historical subscription takes: mostly present for one, mostly absent for the others. */
const historical = (h: boolean): Record<string, fc.Arbitrary<unknown>> => {
  const absent = h ? 1 : 150;
  return {
    from: either(position, h ? 1 : absent),
    to: either(position, h ? 3 : absent),
    speed: either(
      fc.oneof(fc.constant("max"), fc.double({ min: 0.1, max: 100, noNaN: true })),
      h ? 3 : absent,
    ),
    live: either(fc.boolean(), h ? 3 : absent),
  };
};
const request = fc.constantFrom(undefined, "realtime", "delayed", "historical", "sideways").chain((feed) =>
  fc.record({
    op: fc.oneof(
      { weight: 6, arbitrary: fc.constant("subscribe") },
      fc.constantFrom("unsubscribe", "ping", "dance"),
    ),
    id: either(fc.nat()),
    symbols: either(fc.array(symbol, { minLength: 1, maxLength: 4 })),
    feed: fc.constant(feed),
    format: either(fc.constantFrom("flatbuffers", "json")),
    policy: either(fc.constantFrom("drop", "conflate", "disconnect")),
    ...historical(feed === "historical"),
  }),
);
const text = fc.oneof(
  { weight: 8, arbitrary: request.map((r) => JSON.stringify(r)) },
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc.string({ unit: "binary", maxLength: 200 }),
);

const CODES = new Set(["BAD_JSON", "UNKNOWN_OP", "BAD_REQUEST"]);

test("feed requests: a TickringError with a stable code, or a request that keeps the rules and round-trips", () => {
  fc.assert(
    fc.property(text, (t) => {
      let req: FeedRequest;
      try {
        req = parseFeedRequest(t);
      } catch (err) {
        assert.ok(err instanceof TickringError, `not a TickringError: ${String(err)}`);
        assert.ok(CODES.has(err.code), err.code);
        assert.ok(err.message.length < 400, `${err.message.length} characters`);
        return;
      }
      if (req.op === "subscribe") {
        for (const s of req.symbols ?? []) assert.equal(symbolProblem(s), undefined, s);
        if (req.feed === "historical") {
          assert.ok(req.from !== undefined);
          if (req.to !== undefined) assert.ok(!before(req.to, req.from), "to is not before from");
          if (req.live) assert.equal(req.to, undefined);
        } else {
          assert.deepEqual([req.from, req.to, req.speed, req.live], [undefined, undefined, "max", false]);
        }
      }
      assert.deepEqual(parseFeedRequest(JSON.stringify(wireForm(req))), req);
    }),
    fuzzParams(3000),
  );
});

function before(a: Position, b: Position): boolean {
  if ("seq" in a && "seq" in b) return a.seq < b.seq;
  if ("timeNs" in a && "timeNs" in b) return a.timeNs < b.timeNs;
  return false;
}

/** A parsed request as a client would send it. */
function wireForm(req: FeedRequest): Record<string, unknown> {
  if (req.op !== "subscribe") return { ...req };
  const pos = (p: Position | undefined): unknown =>
    p === undefined
      ? undefined
      : "seq" in p
        ? { seq: p.seq }
        : { time: new Date(Number(p.timeNs / 1_000_000n)).toISOString() };
  const historical = req.feed === "historical";
  return {
    op: "subscribe",
    id: req.id,
    symbols: req.symbols ?? ["*"],
    feed: req.feed,
    format: req.format,
    policy: req.policy,
    from: pos(req.from),
    to: pos(req.to),
    speed: historical ? req.speed : undefined,
    live: historical ? req.live : undefined,
  };
}
