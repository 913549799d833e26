/**
 * Keeps the e2e load generator from rotting in its `--url` mode: load a daemon that is already running
 * (no spawn, no baseline) with two clients over two load processes. The full `--smoke` scenario list,
 * against the baseline too, runs in report-smoke.test.ts.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startDaemon, tempDir } from "../support/daemon.js";

const BENCH = fileURLToPath(new URL("../../bench/e2e/e2e.bench.js", import.meta.url));

test("tickring bench e2e --url loads a running daemon from several load processes", async () => {
  const dir = tempDir();
  const daemon = await startDaemon(dir.path, ["--workers", "1"]);
  try {
    const args = [BENCH, "--json", "--url", `ws://127.0.0.1:${daemon.port}`];
    args.push("--clients", "2", "--procs", "2", "--rate", "2000", "--duration", "0.5");
    const { stdout } = await promisify(execFile)(process.execPath, args, { timeout: 60_000 });
    const report = JSON.parse(stdout);
    assert.equal(report.bench, "e2e");
    assert.equal(report.machine.target, `ws://127.0.0.1:${daemon.port}`);
    assert.equal(report.results.length, 1);
    const [row] = report.results;
    assert.equal(row.baseline, null);
    assert.equal(row.tickring.procs, 2);
    // 2 clients × 2000 ticks/s over 0.5 s: every tick stamped in the window reaches both clients.
    assert.ok(row.tickring.deliveredPerSecond > 2000, `delivered ${row.tickring.deliveredPerSecond}/s`);
    assert.ok(row.tickring.latencyUs.p50 > 0);
    assert.equal(row.tickring.clientCpuPerProc.length, 2);
  } finally {
    await daemon.stop();
    dir.remove();
  }
});

test("e2e --url rejects a URL that is not ws://host:port with exit 2", async () => {
  await assert.rejects(
    promisify(execFile)(process.execPath, [BENCH, "--url", "http://x/y"]),
    (err: { code: number; stderr: string }) => err.code === 2 && err.stderr.includes("--url"),
  );
});
