/** Keeps the e2e benchmark from rotting: run it with --smoke --json as a child process and check its JSON. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const BENCH = fileURLToPath(new URL("../../bench/e2e/e2e.bench.js", import.meta.url));

test("the e2e benchmark runs in --smoke mode against tickring and the baseline", async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [BENCH, "--smoke", "--json"], {
    timeout: 120_000,
  });
  const report = JSON.parse(stdout);
  assert.equal(report.bench, "e2e");
  assert.ok(report.results.length >= 2);
  for (const row of report.results) {
    for (const side of [row.tickring, row.baseline]) {
      assert.ok(side.deliveredPerSecond > 0, `${row.scenario} delivered frames`);
      for (const key of ["p50", "p99", "p999", "max"]) assert.equal(typeof side.latencyUs[key], "number");
      assert.equal(typeof side.clientCpu, "number");
    }
  }
});
