/** Keeps the bars, http and import benchmarks from rotting: each runs with --smoke --json as a child process. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

async function smoke(script: string): Promise<Record<string, unknown>> {
  const path = fileURLToPath(new URL(`../../bench/${script}`, import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, [path, "--smoke", "--json"], {
    timeout: 120_000,
  });
  return JSON.parse(stdout);
}

test("the bars benchmark runs in --smoke mode", async () => {
  const r = await smoke("bars/bars.bench.js");
  assert.equal(r.bench, "bars");
  const results = r.results as { feed: string; off: number; on: number }[];
  assert.deepEqual(
    results.map((x) => x.feed),
    ["trade", "quote"],
  );
  assert.ok(results.every((x) => x.off > 0 && x.on > 0));
});

test("the http benchmark runs in --smoke mode", async () => {
  const r = await smoke("http/http.bench.js");
  assert.equal(r.bench, "http");
  const http = r.http as Record<string, { n: number }>;
  assert.equal(http.ndjson.n, 20_000);
  assert.equal(http.json.n, 20_000);
});

test("the import benchmark runs in --smoke mode", async () => {
  const r = await smoke("import/import.bench.js");
  assert.equal(r.bench, "import");
  assert.ok((r.importRowsPerSecond as number) > 0);
});
