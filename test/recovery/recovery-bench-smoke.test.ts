/** The recovery benchmark runs (`--smoke --json`) as a child process, exits 0 and prints its JSON keys. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const BENCH = fileURLToPath(new URL("../../bench/recovery/recovery.bench.js", import.meta.url));

test("recovery bench --smoke --json exits 0 with the expected keys", async () => {
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, [BENCH, "--smoke", "--json"], { timeout: 60_000 }, (err, out) =>
      err ? reject(err) : resolve(out),
    );
  });
  const report = JSON.parse(stdout) as Record<string, unknown>;
  assert.deepEqual(Object.keys(report).sort(), ["baseline", "benchmark", "machine", "scenarios", "settings"]);
  const [s] = report.scenarios as Record<string, unknown>[];
  for (const key of [
    "name",
    "readyS",
    "indexedS",
    "readyRatioToEmpty",
    "createMbPerS",
    "restoreMbPerS",
    "cpMbPerS",
    "createRatioToCp",
    "restoreRatioToCp",
  ]) {
    assert.ok(key in s, key);
  }
});
