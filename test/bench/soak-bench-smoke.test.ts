/**
 * Keeps the soak benchmark from rotting: `--smoke --json` runs both phases against the real daemon with
 * every hostile load, and the report says what the soak is for — no crash, every acked tick in history
 * exactly once, the hostile clients answered. Latency and memory are printed, not asserted.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const BENCH = fileURLToPath(new URL("../../bench/soak/soak.bench.js", import.meta.url));
const run = promisify(execFile);

test("the soak benchmark runs in --smoke mode and checks every acked tick", async () => {
  const { stdout } = await run(process.execPath, [BENCH, "--smoke", "--json", "--seed", "1"], {
    timeout: 180_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  const report = JSON.parse(stdout);
  assert.equal(report.bench, "soak");
  assert.deepEqual(report.errors, []);
  assert.deepEqual(report.daemon.exits, []);
  assert.equal(report.daemon.workerFailures, 0);
  assert.equal(report.daemon.stop.code, "0");
  assert.equal(report.history.ended, "done");
  assert.ok(report.history.ackedTicks > 0);
  assert.equal(report.history.lost + report.history.duplicated + report.history.misplaced, 0);
  assert.ok(report.phases.baseline.frames > 0 && report.phases.hostile.frames > 0);
  assert.deepEqual(
    report.targets.map((t: { name: string; met: unknown }) => typeof t.met),
    ["boolean", "boolean", "boolean", "boolean"],
  );
  assert.deepEqual(
    report.hostile.map((h: { name: string }) => h.name),
    ["fuzz", "stalled", "churn", "replays", "symbols"],
  );
  for (const h of report.hostile) {
    assert.equal(h.error, undefined, `${h.name}: ${h.error}`);
    assert.ok(Object.keys(h.counts).length > 0, `${h.name} counted what it got back`);
  }
  // The fuzzer was refused with codes, not ignored.
  const fuzz = report.hostile.find((h: { name: string }) => h.name === "fuzz");
  assert.ok(Object.keys(fuzz.counts).some((k) => /→ error:BAD_(FRAME|JSON|TICK|REQUEST)$/.test(k)));
});

test("tickring bench soak refuses an unknown hostile load with exit 2", async () => {
  await assert.rejects(
    run(process.execPath, [BENCH, "--hostile", "fuzz,nope"]),
    (err: { code: number; stderr: string }) => err.code === 2 && err.stderr.includes("--hostile"),
  );
});
