/**
 * examples/tickring.config.json never drifts from the options: it loads through `--config` as it is, sets
 * or describes (a `// flag` comment key) every flag of `tickring serve`, and a daemon serves with it.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { resolveCliServeOptions, serveFlags } from "../../src/config/options.js";
import { OptionError } from "../../src/errors.js";
import { startDaemon, tempDir } from "../support/daemon.js";

const EXAMPLE = fileURLToPath(new URL("../../../examples/tickring.config.json", import.meta.url));

test("the example config loads, and every option of tickring serve is in it, set or described", () => {
  const options = resolveCliServeOptions({ flags: { config: EXAMPLE } });
  assert.equal(options.data, "/var/lib/tickring");
  assert.equal(options.fsync, "batch");
  assert.equal(options.retainStoreMs, 30 * 86_400_000);
  assert.equal(options.snapshotKeep, 4);
  assert.equal(options.transport, "auto");
  const keys = Object.keys(JSON.parse(readFileSync(EXAMPLE, "utf8")) as object);
  for (const { flag } of serveFlags()) {
    if (flag === "config") continue;
    assert.ok(
      keys.includes(flag) || keys.includes(`// ${flag}`),
      `examples/tickring.config.json lacks ${flag}`,
    );
  }
});

test("comment keys are skipped, but a misspelt option next to them is still refused", () => {
  const dir = tempDir();
  try {
    const path = `${dir.path}/c.json`;
    const write = (o: object) => writeFileSync(path, JSON.stringify(o));
    write({ "// fsync": "a comment", fsync: "os" });
    assert.equal(resolveCliServeOptions({ flags: { config: path } }).fsync, "os");
    write({ "// fsync": "a comment", fsnyc: "os" });
    assert.throws(() => resolveCliServeOptions({ flags: { config: path } }), OptionError);
  } finally {
    dir.remove();
  }
});

test("a daemon serves with the example config (data and port overridden by flags)", async () => {
  const dir = tempDir();
  const daemon = await startDaemon(dir.path, ["--config", EXAMPLE, "--workers", "1"]);
  try {
    const ready = daemon.logs.find((l) => l.msg === "tickring serving")!;
    assert.equal(ready.fsync, "batch");
    assert.match(String(ready.retention), /WAL 2h, store 30d/);
    assert.equal((await fetch(`http://127.0.0.1:${daemon.port}/healthz`)).status, 200);
  } finally {
    assert.equal(await daemon.stop(), 0, daemon.stderr());
    dir.remove();
  }
});
