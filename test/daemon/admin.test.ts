import assert from "node:assert/strict";
import { test } from "node:test";
import { startDaemon, tempDir } from "../support/daemon.js";

const post = (port: number, headers: Record<string, string> = {}) =>
  fetch(`http://127.0.0.1:${port}/v1/admin/snapshot`, { method: "POST", headers });

test("admin on loopback: no token needed, but no browser page can make it, and snapshots are rate limited", async () => {
  const dir = tempDir();
  const daemon = await startDaemon(dir.path);
  try {
    // A cross-origin page: an Origin header, or a form's content type, or a cross-site fetch.
    const pages: Record<string, string>[] = [
      { origin: "https://evil.example" },
      { "content-type": "text/plain" },
      { "content-type": "application/x-www-form-urlencoded" },
      { "sec-fetch-site": "cross-site" },
    ];
    for (const headers of pages) {
      const res = await post(daemon.port, headers);
      assert.ok(res.status === 403 || res.status === 415, `${JSON.stringify(headers)}: ${res.status}`);
      assert.equal(((await res.json()) as { op: string }).op, "error");
    }
    const ok = await post(daemon.port);
    assert.equal(ok.status, 200);
    const body = (await ok.json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ["id", "seq"], "no server path in the answer");
    const again = await post(daemon.port);
    assert.equal(again.status, 429);
    assert.equal(((await again.json()) as { code: string }).code, "RATE_LIMITED");
  } finally {
    await daemon.stop();
    dir.remove();
  }
});

test("admin beyond loopback needs --admin-token", async () => {
  const dir = tempDir();
  const daemon = await startDaemon(dir.path, ["--host", "0.0.0.0", "--insecure"]);
  try {
    const res = await post(daemon.port);
    assert.equal(res.status, 403);
    assert.equal(((await res.json()) as { code: string }).code, "FORBIDDEN");
  } finally {
    await daemon.stop();
    dir.remove();
  }
  const withToken = await startDaemon(dir.path, [
    "--host",
    "0.0.0.0",
    "--insecure",
    "--admin-token",
    "s3cret",
  ]);
  try {
    assert.equal((await post(withToken.port)).status, 401);
    assert.equal((await post(withToken.port, { authorization: "Bearer s3cret" })).status, 200);
  } finally {
    await withToken.stop();
    dir.remove();
  }
});
