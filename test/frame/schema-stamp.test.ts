import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

// Mirrors scripts/gen-schemas.mjs: the committed generated code carries the SHA-256 of the schemas it came from.
test("committed generated code matches schemas/*.fbs (run `npm run schemas` after editing a schema)", () => {
  const root = process.cwd();
  const dir = join(root, "schemas");
  const h = createHash("sha256");
  for (const s of readdirSync(dir)
    .filter((f) => f.endsWith(".fbs"))
    .sort()) {
    h.update(s)
      .update("\0")
      .update(readFileSync(join(dir, s)))
      .update("\0");
  }
  const stamp = readFileSync(join(root, "src/frame/generated/schema.sha256"), "utf8").trim();
  assert.equal(stamp, h.digest("hex"));
});
