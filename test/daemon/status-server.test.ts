/** While recovery runs, the daemon's port answers /healthz 503 with progress, and frees the port on close. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { RecoveryStatusServer } from "../../src/daemon/status-server.js";

test("the recovery status server answers 503 starting with progress, then frees the port", async () => {
  let progress = 50;
  const s = await RecoveryStatusServer.listen("127.0.0.1", 0, () => progress);
  const base = `http://127.0.0.1:${s.port}`;
  const health = await fetch(`${base}/healthz`);
  assert.equal(health.status, 503);
  assert.deepEqual(await health.json(), { status: "starting", progress: 50 });
  progress = 100;
  assert.deepEqual(await (await fetch(`${base}/healthz`)).json(), { status: "starting", progress: 100 });
  const other = await fetch(`${base}/v1/stats`);
  assert.equal(other.status, 503);
  assert.equal(((await other.json()) as { code: string }).code, "NOT_READY");
  await assert.rejects(
    RecoveryStatusServer.listen("127.0.0.1", s.port, () => 0),
    /--port: \d+ is in use \(EADDRINUSE\)/,
  );
  await s.close();
  const again = await RecoveryStatusServer.listen("127.0.0.1", s.port, () => 0);
  await again.close();
});
