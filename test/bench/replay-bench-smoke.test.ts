/** Keeps the replay benchmark from rotting: run it with --smoke --json as a child process and check its JSON. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const BENCH = fileURLToPath(new URL("../../bench/replay/replay.bench.js", import.meta.url));

test("the replay benchmark runs in --smoke mode", async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [BENCH, "--smoke", "--json"], {
    timeout: 120_000,
  });
  const report = JSON.parse(stdout);
  assert.equal(report.bench, "replay");
  for (const source of ["wal", "store"]) {
    assert.ok(report.results[source].replayFramesPerSecond > 0);
    assert.equal(typeof report.results[source].firstFrameMs, "number");
  }
  assert.equal(typeof report.results.wal.rawWalReadFramesPerSecond, "number");
  assert.ok(report.results.catchUp.liveAfterMs > 0);
});
