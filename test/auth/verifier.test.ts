import assert from "node:assert/strict";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { readAuthKeys, readSecret } from "../../src/auth/keys.js";
import { mintToken } from "../../src/auth/token.js";
import { TokenVerifier } from "../../src/auth/verifier.js";
import { OptionError, TickringError } from "../../src/errors.js";
import { tempDir } from "../support/daemon.js";

const SECRET = new TextEncoder().encode("0123456789abcdef0123456789abcdef0123456789");
const OTHER = new TextEncoder().encode("another-secret-another-secret-another-secret");

async function refused(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: TickringError) => {
    assert.equal(e.code, "UNAUTHORIZED");
    assert.match(e.message, pattern);
    return true;
  });
}

test("HS256: a good token's grants; expired, not yet valid, wrongly signed and malformed ones refused", async () => {
  const v = new TokenVerifier({ secret: SECRET, jwks: undefined });
  const good = await mintToken(SECRET, {
    sub: "alice",
    claim: { realtime: ["AAPL"], ingest: true },
    ttlMs: 60_000,
  });
  const g = await v.verify(good);
  assert.deepEqual(
    [g.sub, g.ingest, g.realtime.allows("AAPL"), g.realtime.allows("MSFT")],
    ["alice", true, true, false],
  );
  const past = Date.now() - 3600_000;
  await refused(
    v.verify(await mintToken(SECRET, { sub: "a", claim: {}, ttlMs: 1000, nowMs: past })),
    /^token expired at /,
  );
  const future = await new SignJWT({})
    .setProtectedHeader({ alg: "HS256" })
    .setSubject("a")
    .setNotBefore(Math.floor(Date.now() / 1000) + 3600)
    .sign(SECRET);
  await refused(v.verify(future), /^token not valid before /);
  await refused(
    v.verify(await mintToken(OTHER, { sub: "a", claim: {}, ttlMs: 60_000 })),
    /bad token signature/,
  );
  await refused(v.verify("not-a-token"), /malformed token/);
  await refused(v.verify("x".repeat(9000)), /at most 8192/);
  await refused(
    v.verify(await new SignJWT({ tickring: {} }).setProtectedHeader({ alg: "HS256" }).sign(SECRET)),
    /no sub/,
  );
  // alg "none" (an unsigned token) never passes.
  const none = `${Buffer.from('{"alg":"none"}').toString("base64url")}.${Buffer.from('{"sub":"a"}').toString("base64url")}.`;
  await refused(v.verify(none), /signed with "none"/);
});

test("JWKS: RS256, ES256 and EdDSA tokens by their keys; an HS256 token signed with a public key is refused", async () => {
  const keys = await Promise.all(
    ["RS256", "ES256", "EdDSA"].map((alg) => generateKeyPair(alg, { extractable: true })),
  );
  const jwks = {
    keys: await Promise.all(
      keys.map(async (k, i) => ({
        ...(await exportJWK(k.publicKey)),
        kid: `k${i}`,
        alg: ["RS256", "ES256", "EdDSA"][i],
      })),
    ),
  };
  const v = new TokenVerifier({ secret: SECRET, jwks });
  for (const [i, alg] of ["RS256", "ES256", "EdDSA"].entries()) {
    const t = await new SignJWT({ tickring: { metrics: true } })
      .setProtectedHeader({ alg, kid: `k${i}` })
      .setSubject(`user-${alg}`)
      .setExpirationTime("1h")
      .sign(keys[i].privateKey);
    assert.equal((await v.verify(t)).sub, `user-${alg}`);
  }
  const stranger = await generateKeyPair("ES256");
  const t = await new SignJWT({})
    .setProtectedHeader({ alg: "ES256", kid: "k1" })
    .setSubject("x")
    .sign(stranger.privateKey);
  await refused(v.verify(t), /bad token signature/);
  // Algorithm confusion: the public RSA key's text as an HMAC secret.
  const confused = await new SignJWT({})
    .setProtectedHeader({ alg: "HS256", kid: "k0" })
    .setSubject("x")
    .sign(new TextEncoder().encode(JSON.stringify(jwks.keys[0])));
  await refused(
    new TokenVerifier({ secret: undefined, jwks }).verify(confused),
    /signed with "HS256": this server accepts RS256, ES256, EdDSA/,
  );
});

test("key files: a short secret, private keys in the JWKS and unreadable files are refused, naming the option", async () => {
  const dir = tempDir();
  try {
    const short = join(dir.path, "short");
    writeFileSync(short, "tooshort\n");
    assert.throws(
      () => readSecret(short, "--auth-secret-file"),
      (e: OptionError) => /needs at least 32/.test(e.message) && e.option === "--auth-secret-file",
    );
    const secret = join(dir.path, "secret");
    writeFileSync(secret, `${"s".repeat(40)}\n`);
    chmodSync(secret, 0o644);
    const read = readAuthKeys({ authSecretFile: secret, authJwks: undefined });
    assert.equal(read.keys!.secret!.length, 40, "the trailing newline is not part of the secret");
    assert.match(read.warnings[0], /readable by other users \(mode 644\): chmod 600/);
    chmodSync(secret, 0o600);
    assert.deepEqual(readAuthKeys({ authSecretFile: secret, authJwks: undefined }).warnings, []);
    const { privateKey } = await generateKeyPair("ES256", { extractable: true });
    const jwks = join(dir.path, "jwks.json");
    writeFileSync(jwks, JSON.stringify({ keys: [await exportJWK(privateKey)] }));
    assert.throws(
      () => readAuthKeys({ authSecretFile: undefined, authJwks: jwks }),
      /keys\[0\] holds private key material \("d"\)/,
    );
    writeFileSync(jwks, "{}");
    assert.throws(
      () => readAuthKeys({ authSecretFile: undefined, authJwks: jwks }),
      /must hold a JSON Web Key Set/,
    );
    assert.throws(
      () => readAuthKeys({ authSecretFile: join(dir.path, "nope"), authJwks: undefined }),
      /--auth-secret-file: cannot read .*ENOENT/,
    );
    assert.equal(readAuthKeys({ authSecretFile: undefined, authJwks: undefined }).keys, undefined);
  } finally {
    dir.remove();
  }
});

test("precheck: what can be refused without the signature, synchronously; a forged token passes it (not verify)", async () => {
  const keys = await generateKeyPair("ES256", { extractable: true });
  const jwks = { keys: [{ ...(await exportJWK(keys.publicKey)), kid: "k1", alg: "ES256" }] };
  const v = new TokenVerifier({ secret: SECRET, jwks });
  const refuses = (t: string, pattern: RegExp) =>
    assert.throws(
      () => v.precheck(t),
      (e: TickringError) => e.code === "UNAUTHORIZED" && pattern.test(e.message),
    );
  const past = Date.now() - 3600_000;
  refuses(await mintToken(SECRET, { sub: "a", claim: {}, ttlMs: 1000, nowMs: past }), /^token expired at /);
  const unknownKid = await new SignJWT({})
    .setProtectedHeader({ alg: "ES256", kid: "k9" })
    .setSubject("a")
    .sign(keys.privateKey);
  refuses(unknownKid, /no key of this server matches/);
  refuses(
    await new SignJWT({}).setProtectedHeader({ alg: "HS384" }).setSubject("a").sign(SECRET),
    /signed with "HS384"/,
  );
  refuses(
    await new SignJWT({ tickring: { bogus: 1 } })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("a")
      .sign(SECRET),
    /bogus: unknown/,
  );
  const forged = await mintToken(OTHER, { sub: "mallory", claim: { admin: true }, ttlMs: 60_000 });
  assert.equal(v.precheck(forged).sub, "mallory", "claims are read, not trusted");
  await refused(v.verify(forged), /bad token signature/);
});
