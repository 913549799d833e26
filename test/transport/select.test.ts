/**
 * `--transport`: the daemon serves on the transport asked for (or the one auto finds), and the start-up log
 * and /v1/stats say which, why, and what did not load. What a native build does depends on the Node version
 * and the C library, so the expectations come from probing this process the way the daemon does.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { probeUws } from "../../src/transport/uws.js";
import { WS_SHARES_PORT } from "../../src/transport/ws-transport.js";
import { oneLine, run } from "../cli/run.js";
import { Client, startDaemon, tempDir } from "../support/daemon.js";

interface Stats {
  workers: unknown[];
  transport: {
    name: string;
    source: string;
    reason: string;
    unavailable: { source: string }[];
    workers: number;
  };
}

const native = probeUws();

async function statsOf(port: number): Promise<Stats> {
  return (await (await fetch(`http://127.0.0.1:${port}/v1/stats`)).json()) as Stats;
}

describe("--transport", () => {
  test("ws: served by ws, said in the ready line and /v1/stats; workers share the port where Node can", async () => {
    const dir = tempDir();
    const daemon = await startDaemon(dir.path, ["--transport", "ws", "--workers", "2"]);
    try {
      const stats = await statsOf(daemon.port);
      assert.equal(stats.transport.name, "ws");
      assert.equal(stats.transport.reason, "--transport ws");
      assert.deepEqual(stats.transport.unavailable, [], "no native build was tried");
      const workers = WS_SHARES_PORT ? 2 : 1;
      assert.equal(stats.transport.workers, workers);
      assert.equal(stats.workers.length, workers);
      const ready = daemon.logs.find((l) => l.msg === "tickring serving")!;
      assert.equal(ready.transport, "ws (ws)");
      assert.equal(ready.feed, `ws://127.0.0.1:${daemon.port}/v1/feed`);
      assert.equal(ready.health, `http://127.0.0.1:${daemon.port}/healthz`);
      assert.equal(ready.demo, "off");
      assert.equal(ready.auth, "off");
      if (!WS_SHARES_PORT) {
        assert.ok(
          daemon.logs.some((l) => l.level === 40 && /reusePort.*1 socket worker, not 2/.test(String(l.msg))),
          "the log says why one worker runs",
        );
      }
      // Every connection lands on a worker that serves it, however the kernel spreads them.
      const clients = await Promise.all(
        Array.from({ length: 6 }, () => Client.connect(daemon.url("/v1/feed"))),
      );
      for (const c of clients) c.send({ op: "ping" });
      for (const c of clients) await c.nextOp("pong");
      for (const c of clients) c.close();
    } finally {
      assert.equal(await daemon.stop(), 0, daemon.stderr());
      dir.remove();
    }
  });

  test("auto: native uWS when a build loads, else ws with each package's reason in a warning", async () => {
    const dir = tempDir();
    const daemon = await startDaemon(dir.path, ["--transport", "auto"]);
    try {
      const stats = await statsOf(daemon.port);
      if ("uws" in native) {
        assert.equal(stats.transport.name, "uws");
        assert.equal(stats.transport.source, native.source);
        // The log names the native packages tried before the one that loaded, and why they did not.
        const line = daemon.logs.find((l) => l.msg === `transport: uws (${native.source})`);
        assert.ok(line, "the log names the transport");
        assert.deepEqual(line.unavailable ?? [], native.failures);
      } else {
        assert.equal(stats.transport.name, "ws");
        assert.match(stats.transport.reason, /no native uWebSockets\.js loaded/);
        const warning = daemon.logs.find((l) => l.level === 40 && /ws transport/.test(String(l.msg)));
        assert.ok(warning, "a warning says the daemon fell back");
        assert.deepEqual(
          (warning.unavailable as { source: string }[]).map((f) => f.source),
          ["uWebSockets.js", "@btc-vision/uwebsockets.js", "@trufflesuite/uws-js-unofficial"],
        );
      }
      assert.deepEqual(
        stats.transport.unavailable.map((f) => f.source),
        native.failures.map((f) => f.source),
      );
    } finally {
      assert.equal(await daemon.stop(), 0, daemon.stderr());
      dir.remove();
    }
  });

  test("uws: serves on a native build, or exits 1 naming every package and why it did not load", async () => {
    const dir = tempDir();
    try {
      if ("uws" in native) {
        const daemon = await startDaemon(dir.path, ["--transport", "uws"]);
        assert.equal((await statsOf(daemon.port)).transport.name, "uws");
        assert.equal(await daemon.stop(), 0, daemon.stderr());
      } else {
        const r = await run(["serve", "--transport", "uws", "--port", "0", "--data", dir.path]);
        assert.equal(r.code, 1, r.stderr);
        const line = oneLine(r);
        assert.match(line, /^tickring: --transport uws: no native uWebSockets\.js could be loaded/);
        for (const f of native.failures) assert.ok(line.includes(`${f.source}: ${f.reason}`), line);
      }
    } finally {
      dir.remove();
    }
  });

  test("an unknown transport is refused, exit 2", async () => {
    const r = await run(["serve", "--transport", "uwebsockets", "--port", "0"]);
    assert.equal(r.code, 2);
    assert.match(oneLine(r), /--transport: expected one of auto, uws, ws, got "uwebsockets"/);
  });
});
