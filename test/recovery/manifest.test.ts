/** readManifest: a missing snapshot path is ERR_DATA_MISSING; a manifest that is not JSON keeps the parse error as cause. */
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { readManifest, type RecoveryError } from "../../src/recovery/index.js";
import { tempDir } from "../support/daemon.js";

test("readManifest: ERR_DATA_MISSING for a missing path; ERR_SNAPSHOT_MANIFEST with the parse error as cause", async () => {
  const dir = tempDir("tickring-manifest-");
  try {
    await assert.rejects(
      readManifest(join(dir.path, "nope")),
      (e: RecoveryError) => e.code === "ERR_DATA_MISSING" && e.path === join(dir.path, "nope"),
    );
    const snap = join(dir.path, "snap");
    mkdirSync(snap);
    writeFileSync(join(snap, "manifest.json"), "{ not json");
    await assert.rejects(
      readManifest(snap),
      (e: RecoveryError) => e.code === "ERR_SNAPSHOT_MANIFEST" && e.cause instanceof SyntaxError,
    );
  } finally {
    dir.remove();
  }
});
