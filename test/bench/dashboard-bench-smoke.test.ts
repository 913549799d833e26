/** Keeps the dashboard benchmark from rotting: run it with --smoke --json as a child process. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const BENCH = fileURLToPath(new URL("../../bench/dashboard/dashboard.bench.js", import.meta.url));

test("the dashboard benchmark runs in --smoke mode", async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [BENCH, "--smoke", "--json"], {
    timeout: 180_000,
  });
  const report = JSON.parse(stdout);
  assert.equal(report.bench, "dashboard");
  for (const s of [report.baseline, report.demo]) {
    assert.ok(s.firstVisitKB > 0, "the page's files were weighed");
    assert.ok(s.reloadKB < s.firstVisitKB, "a reload takes the hashed files from the cache");
    assert.ok(s.mainThreadCpu > 0);
  }
  assert.ok(report.demo.feedKBPerSec > 0, "the demo feed reached the page");
  assert.equal(typeof report.ratio, "number");
});
