#!/usr/bin/env node
// Regenerates src/frame/generated from schemas/*.fbs with flatc (Debian's flatbuffers-compiler, see
// schemas/README.md). flatc 2.0.8 writes relative imports without extensions, which NodeNext resolution
// rejects (TS2835), so each one gets its `.js`. A stamp of the schema's SHA-256 is written beside the code;
// test/frame/schema-stamp.test.ts fails when the committed code no longer matches the schema.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const schemaDir = join(root, "schemas");
const outDir = join(root, "src", "frame", "generated");
const schemas = readdirSync(schemaDir)
  .filter((f) => f.endsWith(".fbs"))
  .sort();

let version;
try {
  version = execFileSync("flatc", ["--version"], { encoding: "utf8" }).trim();
} catch {
  console.error(
    "flatc not found: install Debian's flatbuffers-compiler (apt-get install flatbuffers-compiler)",
  );
  process.exit(2);
}

const tmp = mkdtempSync(join(tmpdir(), "tickring-flatc-"));
try {
  execFileSync("flatc", ["--ts", "-o", tmp, ...schemas.map((s) => join(schemaDir, s))], { stdio: "inherit" });
  rmSync(outDir, { recursive: true, force: true });
  for (const file of walk(tmp)) {
    const rel = relative(tmp, file);
    const text = readFileSync(file, "utf8").replace(/from '(\.{1,2}\/[^']+)'/g, (_m, p) => `from '${p}.js'`);
    const dest = join(outDir, rel);
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, text);
  }
  writeFileSync(join(outDir, "schema.sha256"), `${schemaStamp()}\n`);
  console.log(`generated ${relative(root, outDir)} with ${version}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

function* walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* walk(p);
    else yield p;
  }
}

function schemaStamp() {
  const h = createHash("sha256");
  for (const s of schemas)
    h.update(s)
      .update("\0")
      .update(readFileSync(join(schemaDir, s)))
      .update("\0");
  return h.digest("hex");
}
