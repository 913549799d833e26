/** `--snapshot-every` takes online snapshots under ingest; `--snapshot-keep` leaves the newest N, all valid. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { startDaemon, tempDir } from "../support/daemon.js";
import { cli, Publisher } from "./helpers.js";

test("scheduled snapshots keep the newest --snapshot-keep, each verifiable", async () => {
  const dir = tempDir("tickring-sched-");
  try {
    const daemon = await startDaemon(dir.path, [
      "--workers",
      "1",
      "--snapshot-every",
      "200ms",
      "--snapshot-keep",
      "2",
    ]);
    const pub = await Publisher.connect(daemon.url("/v1/ingest"));
    pub.start();
    const created = () => daemon.logs.filter((l) => l.msg === "snapshot created");
    const deadline = Date.now() + 30_000;
    while (created().length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await pub.stop();
    pub.close();
    assert.equal(await daemon.stop(), 0, daemon.stderr());
    const ids = created().map((l) => l.id as string);
    assert.ok(ids.length >= 3, `${ids.length} scheduled snapshots`);
    const list = await cli(["snapshot", "list", "--data", dir.path, "--json"]);
    const kept = list.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { id: string; path: string });
    assert.deepEqual(
      kept.map((s) => s.id),
      ids.slice(-2),
    );
    for (const s of kept) {
      const v = await cli(["snapshot", "verify", s.path]);
      assert.equal(v.code, 0, v.stderr);
    }
    assert.ok(kept.every((s) => s.path.startsWith(join(dir.path, "snapshots"))));
  } finally {
    dir.remove();
  }
});
