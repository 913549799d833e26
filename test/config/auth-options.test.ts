/** The auth options and the rules between them: loopback unless auth or --insecure, --admin-token only without auth. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { isLoopbackHost, resolveCliServeOptions, resolveServeOptions } from "../../src/config/options.js";
import { OptionError } from "../../src/errors.js";

function refuses(fn: () => unknown, option: string, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof OptionError, String(err));
    assert.equal(err.option, option);
    assert.match(err.message, message);
    return true;
  });
}

test("beyond loopback needs auth or --insecure, whichever way the host was given", () => {
  refuses(
    () => resolveServeOptions({ host: "0.0.0.0" }),
    "host",
    /reachable beyond this machine and auth is off/,
  );
  refuses(() => resolveCliServeOptions({ flags: { host: "10.0.0.1" } }), "--host", /--insecure/);
  refuses(() => resolveCliServeOptions({ env: { TICKRING_HOST: "::" } }), "TICKRING_HOST", /auth is off/);
  assert.equal(resolveServeOptions({ host: "0.0.0.0", insecure: true }).insecure, true);
  assert.equal(resolveCliServeOptions({ flags: { host: "0.0.0.0", insecure: true } }).insecure, true);
  assert.equal(
    resolveCliServeOptions({ flags: { host: "0.0.0.0" }, env: { TICKRING_INSECURE: "1" } }).insecure,
    true,
  );
  assert.equal(
    resolveServeOptions({ host: "0.0.0.0", authSecretFile: "/etc/secret" }).authSecretFile,
    "/etc/secret",
  );
  assert.equal(resolveServeOptions({ host: "0.0.0.0", authJwks: "/etc/jwks.json" }).insecure, false);
  refuses(
    () => resolveCliServeOptions({ env: { TICKRING_INSECURE: "maybe" } }),
    "TICKRING_INSECURE",
    /true or false/,
  );
  for (const host of ["127.0.0.1", "127.1.2.3", "localhost", "::1", "::ffff:127.0.0.1"])
    assert.ok(isLoopbackHost(host), host);
  for (const host of ["0.0.0.0", "::", "10.0.0.1", "example.com", "128.0.0.1"])
    assert.ok(!isLoopbackHost(host), host);
});

test("--admin-token is refused with auth on; --allowed-origins takes origins only", () => {
  refuses(
    () => resolveServeOptions({ authSecretFile: "s", adminToken: "t" }),
    "adminToken",
    /not used when auth is on/,
  );
  assert.deepEqual(
    resolveCliServeOptions({ flags: { "allowed-origins": "https://a.example, http://localhost:3000" } })
      .allowedOrigins,
    ["https://a.example", "http://localhost:3000"],
  );
  refuses(
    () => resolveServeOptions({ allowedOrigins: ["https://a.example/"] }),
    "allowedOrigins",
    /expected an origin/,
  );
  refuses(
    () => resolveCliServeOptions({ flags: { "allowed-origins": "a.example" } }),
    "--allowed-origins",
    /expected an origin/,
  );
});
