/**
 * Safe defaults at start: no serving beyond loopback without auth unless --insecure (then said out loud),
 * options that contradict auth refused, --allowed-origins, and SIGHUP re-reading the public keys.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { bearer, refusedUpgrade, tokenFor, writeSecret } from "../support/auth.js";
import { Client, startDaemon, tempDir } from "../support/daemon.js";
import { oneLine, run } from "../cli/run.js";

const dir = tempDir("tickring-auth-start-");
after(() => dir.remove());
const secret = writeSecret(dir.path);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `tickring serve ARGS`, expected to refuse to start: its one line. */
async function refused(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const r = await run(["serve", "--port", "0", "--data", join(dir.path, "refused"), ...args], env);
  assert.equal(r.code, 2, r.stderr);
  return oneLine(r);
}

test("--host beyond loopback without auth refuses to start, naming the option as given", async () => {
  assert.match(
    await refused(["--host", "0.0.0.0"]),
    /^tickring: --host: 0\.0\.0\.0 is reachable beyond this machine and auth is off: give --auth-secret-file or --auth-jwks .*or --insecure/,
  );
  assert.match(
    await refused([], { TICKRING_HOST: "0.0.0.0" }),
    /^tickring: TICKRING_HOST: 0\.0\.0\.0 is reachable/,
  );
});

test("options that contradict auth, and unusable key files, refuse to start", async () => {
  assert.match(
    await refused(["--auth-secret-file", secret.path, "--admin-token", "x"]),
    /^tickring: --admin-token: not used when auth is on/,
  );
  const short = join(dir.path, "short");
  writeFileSync(short, "short\n", { mode: 0o600 });
  assert.match(
    await refused(["--auth-secret-file", short]),
    /^tickring: --auth-secret-file: .* holds 5 bytes/,
  );
  assert.match(
    await refused(["--auth-jwks", join(dir.path, "none.json")]),
    /^tickring: --auth-jwks: cannot read/,
  );
  assert.match(
    await refused(["--allowed-origins", "https://a.example/path"]),
    /^tickring: --allowed-origins: expected an origin/,
  );
});

test("--insecure serves beyond loopback without auth, and says so in the log and in /healthz", async () => {
  const d = await startDaemon(join(dir.path, "insecure"), ["--host", "0.0.0.0", "--insecure"]);
  try {
    const health = (await (await fetch(`http://127.0.0.1:${d.port}/healthz`)).json()) as Record<
      string,
      unknown
    >;
    assert.equal(health.insecure, true);
    assert.ok(
      d.logs.some(
        (l) => l.insecure === true && l.level === 40 && /WITHOUT authentication/.test(String(l.msg)),
      ),
    );
  } finally {
    assert.equal(await d.stop(), 0, d.stderr());
  }
  const secured = await startDaemon(join(dir.path, "insecure"), [
    "--host",
    "0.0.0.0",
    "--auth-secret-file",
    secret.path,
  ]);
  try {
    const health = (await (await fetch(`http://127.0.0.1:${secured.port}/healthz`)).json()) as Record<
      string,
      unknown
    >;
    assert.deepEqual(Object.keys(health).sort(), ["seq", "status"]);
  } finally {
    assert.equal(await secured.stop(), 0, secured.stderr());
  }
});

test("--allowed-origins: listed browser origins may connect, others are refused before the upgrade", async () => {
  const d = await startDaemon(join(dir.path, "origins"), [
    "--auth-secret-file",
    secret.path,
    "--allowed-origins",
    "https://app.example.com,http://localhost:3000",
  ]);
  try {
    const t = await tokenFor(secret.bytes, "web", { realtime: ["*"], ingest: true });
    for (const path of ["/v1/feed", "/v1/ingest"]) {
      const c = await Client.connect(d.url(path), { ...bearer(t), origin: "https://app.example.com" });
      c.close();
      const r = await refusedUpgrade(d.url(path), { ...bearer(t), origin: "https://evil.example" });
      assert.deepEqual([r.status, r.code], [403, "FORBIDDEN"], path);
      assert.match(r.message, /origin https:\/\/evil\.example: not in --allowed-origins/);
    }
    // Programs send no Origin: they are not browsers, and the token decides.
    (await Client.connect(d.url("/v1/ingest"), bearer(t))).close();
  } finally {
    assert.equal(await d.stop(), 0, d.stderr());
  }
});

test("SIGHUP re-reads --auth-jwks: tokens of the new keys are accepted, of the old ones refused", async () => {
  const jwks = join(dir.path, "jwks.json");
  const writeKeys = async (kid: string) => {
    const pair = await generateKeyPair("ES256", { extractable: true });
    writeFileSync(
      jwks,
      JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid, alg: "ES256" }] }),
    );
    return (sub: string) =>
      new SignJWT({ tickring: { metrics: true, realtime: ["*"] } })
        .setProtectedHeader({ alg: "ES256", kid })
        .setSubject(sub)
        .setExpirationTime("1h")
        .sign(pair.privateKey);
  };
  const oldKey = await writeKeys("old");
  const d = await startDaemon(join(dir.path, "jwks"), ["--auth-jwks", jwks]);
  const stats = async (t: string) =>
    (await fetch(`http://127.0.0.1:${d.port}/v1/stats`, { headers: { authorization: `Bearer ${t}` } }))
      .status;
  try {
    assert.equal(await stats(await oldKey("a")), 200);
    const open = await Client.connect(d.url("/v1/feed"), bearer(await oldKey("b")));
    const newKey = await writeKeys("new");
    d.child.kill("SIGHUP");
    await open.until(() => d.logs.some((l) => l.msg === "auth keys re-read"), "the re-read");
    // Each worker takes the keys when it handles the main thread's message: give them a moment.
    for (let i = 0; i < 40 && (await stats(await newKey("c"))) !== 200; i++) await sleep(50);
    await sleep(200);
    for (let i = 0; i < 6; i++) {
      assert.equal(await stats(await oldKey("a")), 401);
      assert.equal(await stats(await newKey("c")), 200);
    }
    open.send({ op: "ping" });
    await open.nextOp("pong");
    open.close();
    // A broken file is logged and the keys in force stay.
    writeFileSync(jwks, "{");
    d.child.kill("SIGHUP");
    await open.until(
      () => d.logs.some((l) => l.msg === "auth keys not re-read: the keys in force stay"),
      "the refusal",
    );
    assert.equal(await stats(await newKey("c")), 200);
  } finally {
    assert.equal(await d.stop(), 0, d.stderr());
  }
});
