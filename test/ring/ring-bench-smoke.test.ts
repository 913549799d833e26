/** Keeps the ring benchmark from rotting: run it in --smoke mode as a child process and check its JSON. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const BENCH = fileURLToPath(new URL("../../bench/ring/ring.bench.js", import.meta.url));

test("the ring benchmark runs in --smoke mode and prints one JSON object", async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [BENCH, "--smoke", "--json"], {
    timeout: 60_000,
  });
  const report = JSON.parse(stdout);
  assert.equal(report.benchmark, "ring");
  assert.deepEqual(Object.keys(report.machine).sort(), ["cpuModel", "cpus", "node"]);
  assert.ok(report.results.length > 0);
  for (const row of report.results) {
    for (const key of ["frame", "frameBytes", "consumers", "mode", "throughputRatio", "p99Ratio"]) {
      assert.ok(key in row, `result row has ${key}`);
    }
    for (const side of [row.ring, row.postMessage]) {
      for (const key of ["deliveredPerSecond", "lostRatio", "p50Us", "p99Us", "p999Us", "sent"]) {
        assert.equal(typeof side[key], "number", `${side.transport} has numeric ${key}`);
      }
    }
  }
});
