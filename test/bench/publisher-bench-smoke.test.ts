/** Keeps the ingest-edge benchmark from rotting: run it with --smoke --json as a child process. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const BENCH = fileURLToPath(new URL("../../bench/publisher/publisher.bench.js", import.meta.url));

test("the publisher benchmark runs in --smoke mode", async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [BENCH, "--smoke", "--json"], {
    timeout: 60_000,
  });
  const report = JSON.parse(stdout);
  assert.equal(report.bench, "publisher");
  assert.ok(report.binaryFramesPerSecond > 0);
  assert.ok(report.jsonTicksPerSecond > 0);
  assert.equal(typeof report.ratio, "number");
});
