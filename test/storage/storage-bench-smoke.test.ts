/** The storage benchmark runs (`--smoke --json`) as a child process, exits 0 and prints its JSON keys. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const BENCH = fileURLToPath(new URL("../../bench/storage/storage.bench.js", import.meta.url));

test("storage bench --smoke --json exits 0 with the expected keys", async () => {
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, [BENCH, "--smoke", "--json"], { timeout: 60_000 }, (err, out) =>
      err ? reject(err) : resolve(out),
    );
  });
  const report = JSON.parse(stdout) as Record<string, unknown>;
  assert.deepEqual(Object.keys(report).sort(), ["benchmark", "machine", "paced", "settings", "store", "wal"]);
  const wal = report.wal as Record<string, unknown>[];
  assert.ok(wal.length > 0);
  for (const key of [
    "name",
    "framesPerSecond",
    "mbPerSecond",
    "rawMbPerSecond",
    "ratioToRaw",
    "fsyncP50Us",
    "fsyncP99Us",
  ]) {
    assert.ok(key in wal[0], key);
  }
  const names = (report.store as { name: string }[]).map((r) => r.name).sort();
  assert.deepEqual(names, ["indexer", "read/seq", "read/symbol-time", "wal-replay/sync"]);
});
