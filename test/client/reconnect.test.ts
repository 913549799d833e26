/**
 * When the daemon goes away under accepted subscriptions: every failed attempt is reported with its
 * reason, and the subscription ends with an error carrying the last one when the cap is reached.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ClientError, TickringClient } from "../../src/client/index.js";
import { startDaemon, tempDir } from "../support/daemon.js";
import { ingest } from "./helpers.js";

test(
  "a lost daemon: each attempt's reason is reported, and the cap ends the subscription with the last",
  { timeout: 60_000 },
  async () => {
    const dir = tempDir();
    const daemon = await startDaemon(dir.path);
    try {
      await ingest(daemon, 10);
      const url = `ws://127.0.0.1:${daemon.port}`;
      const capped = new TickringClient({ url, reconnect: { initialMs: 10, maxMs: 40, maxAttempts: 3 } });
      const attempts: [number, number, ClientError][] = [];
      const errors: ClientError[] = [];
      await capped.subscribe(
        { symbols: "*", feed: "historical", from: { seq: 1 }, live: true },
        {
          frame: () => {},
          reconnecting: (attempt, delayMs, reason) => attempts.push([attempt, delayMs, reason]),
          error: (e) => errors.push(e),
        },
      );
      const once = new TickringClient({ url, reconnect: false });
      const onceErrors: ClientError[] = [];
      await once.subscribe({ symbols: "*" }, { frame: () => {}, error: (e) => onceErrors.push(e) });

      assert.equal(await daemon.stop(), 0, daemon.stderr());
      const deadline = Date.now() + 10_000;
      while ((errors.length === 0 || onceErrors.length === 0) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
      }

      assert.deepEqual(
        attempts.map(([a, d]) => [a, d]),
        [
          [1, 10],
          [2, 20],
          [3, 40],
        ],
      );
      // The first reason is how the connection ended; the later ones, why each attempt failed.
      assert.ok(attempts[0][2] instanceof ClientError);
      assert.deepEqual(
        attempts.slice(1).map(([, , r]) => r.code),
        ["ECONNREFUSED", "ECONNREFUSED"],
      );
      assert.equal(errors.length, 1);
      assert.equal(errors[0].code, "UNAVAILABLE");
      assert.match(errors[0].message, /gave up after 3 reconnect attempts: .*ECONNREFUSED/);
      assert.equal((errors[0].cause as ClientError).code, "ECONNREFUSED");

      // Without reconnecting, the lost connection itself ends the subscription, saying how it ended.
      assert.equal(onceErrors.length, 1);
      assert.equal(onceErrors[0].code, "UNAVAILABLE");
      assert.match(onceErrors[0].message, /reconnecting is off/);
      assert.ok(onceErrors[0].cause instanceof ClientError);
    } finally {
      await daemon.kill();
      dir.remove();
    }
  },
);
