/**
 * Keeps `tickring bench e2e --auth` from rotting: the spawned daemon runs with a secret, every load process
 * presents the bench's token, and the frames still arrive (through the entitlement filter for `SYM*`).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const BENCH = fileURLToPath(new URL("../../bench/e2e/e2e.bench.js", import.meta.url));

test("tickring bench e2e --auth SYM*: a daemon with auth on, clients with a token, frames delivered", async () => {
  const args = [BENCH, "--json", "--auth", "SYM*", "--clients", "2", "--procs", "2", "--rate", "2000"];
  const { stdout } = await promisify(execFile)(process.execPath, [...args, "--duration", "0.5"], {
    timeout: 90_000,
  });
  const report = JSON.parse(stdout);
  assert.equal(report.machine.auth, "SYM*");
  const [row] = report.results;
  assert.ok(row.tickring.deliveredPerSecond > 2000, `delivered ${row.tickring.deliveredPerSecond}/s`);
});

test("e2e --auth refuses a bad pattern, and --url with it, with exit 2", async () => {
  for (const extra of [
    ["--auth", "A*B"],
    ["--auth", "*", "--url", "ws://127.0.0.1:1"],
  ]) {
    await assert.rejects(
      promisify(execFile)(process.execPath, [BENCH, ...extra]),
      (err: { code: number; stderr: string }) => err.code === 2 && err.stderr.includes("--auth"),
    );
  }
});
