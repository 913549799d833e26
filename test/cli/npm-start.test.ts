/**
 * `npm start` runs the demo (≈ 2.4 MB/s of WAL + store): it must keep a bounded window, about 1 GB,
 * not fill the disk. Its flags go through the CLI's option resolution as they are written in package.json.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { resolveCliServeOptions } from "../../src/config/options.js";

test("npm start keeps about 1 GB of WAL and store", () => {
  const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8"));
  const args = (pkg.scripts.start as string).split(" serve ")[1].trim().split(/\s+/);
  const flags: Record<string, string | boolean> = {};
  for (let i = 0; i < args.length; i++) {
    assert.ok(args[i].startsWith("--"), `a flag, got ${args[i]}`);
    const next = args[i + 1];
    if (next === undefined || next.startsWith("--")) flags[args[i].slice(2)] = true;
    else flags[args[i++].slice(2)] = next;
  }
  const o = resolveCliServeOptions({ flags });
  assert.notEqual(o.demo, false);
  assert.ok(o.retainWalBytes !== undefined && o.retainStoreBytes !== undefined, "both capped");
  const total = o.retainWalBytes + o.retainStoreBytes;
  assert.ok(total >= 0.5e9 && total <= 1.1e9, `${total} bytes`);
});
