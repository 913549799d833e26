/**
 * The CLI's one error model: every error ends the command with one line, `tickring: <message>`, and the
 * exit status of its code (2 misuse, 1 failure); `--help` tells the truth about every flag.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { serveFlags } from "../../src/config/options.js";
import { oneLine, run } from "./run.js";

test("misuse exits 2 with one line starting tickring:", async () => {
  const cases: [string[], RegExp][] = [
    [["nosuch"], /^tickring: unknown command 'nosuch'$/],
    [["serve", "--prot", "1"], /^tickring: unknown option '--prot' \(Did you mean --port\?\)$/],
    [["serve", "--port", "70000"], /^tickring: --port: expected an integer from 0 to 65535, got "70000"$/],
    [["replay", "--from", "1"], /^tickring: required option '--url <url>' not specified$/],
  ];
  for (const [args, line] of cases) {
    const r = await run(args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(oneLine(r), line);
  }
});

test("a failure exits 1 with its stable code in one line; a missing path is misuse (2)", async () => {
  const snap = mkdtempSync(join(tmpdir(), "tickring-bad-snapshot-"));
  writeFileSync(join(snap, "manifest.json"), "not json");
  try {
    const r = await run(["snapshot", "verify", snap]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(oneLine(r), /^tickring: ERR_SNAPSHOT_MANIFEST: /);
  } finally {
    rmSync(snap, { recursive: true, force: true });
  }
  const missing = await run(["snapshot", "verify", "/nonexistent/tickring-snapshot"]);
  assert.equal(missing.code, 2, missing.stderr);
  assert.match(oneLine(missing), /^tickring: ERR_DATA_MISSING: /);
});

test("tickring --help and serve --help list every command and flag with its default and variable", async () => {
  const top = await run(["--help"]);
  assert.equal(top.code, 0);
  for (const command of ["serve", "replay", "bench", "snapshot"])
    assert.match(top.stdout, new RegExp(`^  ${command} `, "m"));
  const serve = await run(["serve", "--help"]);
  assert.equal(serve.code, 0);
  const help = serve.stdout.replace(/\s+/g, " ");
  for (const f of serveFlags()) {
    assert.ok(help.includes(f.usage), f.usage);
    assert.ok(help.includes(f.description), f.description);
  }
  assert.match(help, /--retain-wal <duration> .*\(default: keep all; env: TICKRING_RETAIN_WAL\)/);
  assert.match(help, /Durations carry a unit/);
});
