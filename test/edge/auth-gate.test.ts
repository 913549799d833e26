/**
 * The gate in-process, where the moment a token's verification ends is under the test's control: messages
 * that arrive while the upgrade's token is being verified wait, in order, and an `{"op":"auth"}` among them
 * is a refresh, not a request for the feed.
 */
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { test } from "node:test";
import { mintToken } from "../../src/auth/token.js";
import { AuthAudit } from "../../src/edge/auth-audit.js";
import { AuthGate, type GateConn } from "../../src/edge/auth-gate.js";
import { createLogger } from "../../src/logger.js";
import { corkedSender } from "../../src/subscriber/send.js";
import { SharedCounts } from "../../src/threads/shared-counts.js";
import { bytesText } from "../../src/transport/transport.js";
import { FakeSocket } from "../support/fake-socket.js";

const secret = new TextEncoder().encode("a-secret-of-the-gate-test-a-secret-of-the-gate-test");
const token = (sub: string, claim: Record<string, unknown>) =>
  mintToken(secret, { sub, claim, ttlMs: 60_000 });

/** A message as uWS hands it over. */
function message(o: unknown): ArrayBuffer {
  return new TextEncoder().encode(JSON.stringify(o)).buffer as ArrayBuffer;
}

function setUp(): {
  gate: AuthGate;
  delivered: string[];
  conn: (t: string) => GateConn & { ws: FakeSocket };
} {
  const delivered: string[] = [];
  const gate = new AuthGate({
    keys: { secret, jwks: undefined },
    allowedOrigins: undefined,
    connectionsPerSub: new SharedCounts(SharedCounts.allocate(16)),
    audit: new AuthAudit(createLogger("silent"), { refused: 0, forbidden: 0, expired: 0, adminActions: 0 }),
    deliver: (_conn, m) => delivered.push(bytesText(m)),
  });
  const conn = (t: string) => {
    const ws = new FakeSocket();
    return {
      ip: "127.0.0.1",
      route: "feed",
      token: t,
      origin: "",
      ws,
      closed: false,
      kind: "feed",
      sender: corkedSender(ws),
    } as GateConn & { ws: FakeSocket };
  };
  return { gate, delivered, conn };
}

async function settled(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await sleep(5);
}

test("a refresh sent before the upgrade's token is verified waits for it, and is a refresh then", async () => {
  const { gate, delivered, conn } = setUp();
  const first = await token("frank", { realtime: ["*"] });
  for (const [refresh, expected] of [
    [await token("mallory", { realtime: ["*"] }), /same sub/],
    [await token("frank", { realtime: ["*"], ingest: true }), /entitlements differ/],
  ] as const) {
    const c = conn(first);
    assert.equal(gate.admit(c), undefined);
    gate.opened(c);
    // Both arrive while `first` is being verified (nothing has been awaited since `opened`).
    assert.equal(gate.intercept(c, message({ op: "auth", token: refresh }), false), true);
    assert.equal(gate.intercept(c, message({ op: "ping" }), false), true);
    await settled(() => c.ws.closed !== undefined);
    assert.equal(c.ws.closed?.code, 4001);
    assert.match(String(c.ws.text.at(-1)?.message), expected);
    assert.deepEqual(delivered, [], "nothing reached the feed");
  }
  const refresh = await token("frank", { realtime: ["*"] });
  const c = conn(first);
  gate.admit(c);
  gate.opened(c);
  assert.equal(gate.intercept(c, message({ op: "auth", token: refresh }), false), true);
  assert.equal(gate.intercept(c, message({ op: "ping" }), false), true);
  await settled(() => delivered.length > 0 && c.ws.text.length > 0);
  assert.deepEqual(
    c.ws.text.map((m) => m.op),
    ["authenticated"],
    "the refresh was accepted",
  );
  assert.deepEqual(delivered, ['{"op":"ping"}'], "the request behind it reached the feed, after it");
  assert.equal(c.ws.closed, undefined);
  gate.closed(c);
});
