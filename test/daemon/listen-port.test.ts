/**
 * probePort blames the option that is wrong: `--host` for a name that does not resolve or an address not
 * on this machine, `--port` for a port in use or not allowed. Real binds on this machine, except EACCES
 * and the EAI_ codes, which depend on the user and the resolver: those go through listenError directly.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:net";
import { test } from "node:test";
import { listenError, probePort } from "../../src/daemon/listen-port.js";
import { OptionError } from "../../src/errors.js";

function isOptionError(option: string, value: string, code: string) {
  return (err: unknown) => {
    assert.ok(err instanceof OptionError, String(err));
    assert.equal(err.option, option);
    assert.match(err.message, new RegExp(`^${option}: ${value.replace(/\./g, "\\.")} .*\\(${code}\\)$`));
    return true;
  };
}

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`listen ${code}`), { code });
}

test("port 0 binds a free port, returns it and releases it", async () => {
  const port = await probePort("127.0.0.1", 0);
  assert.ok(port > 0);
  assert.equal(await probePort("127.0.0.1", port), port);
});

test("a port in use is blamed on --port", async () => {
  const holder: Server = createServer();
  await new Promise<void>((resolve) => holder.listen({ host: "127.0.0.1", port: 0 }, resolve));
  const { port } = holder.address() as { port: number };
  try {
    await assert.rejects(probePort("127.0.0.1", port), isOptionError("--port", String(port), "EADDRINUSE"));
  } finally {
    holder.close();
  }
});

test("an address that is not this machine's is blamed on --host", async () => {
  // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never assigned to a real interface.
  await assert.rejects(probePort("192.0.2.1", 0), isOptionError("--host", "192.0.2.1", "EADDRNOTAVAIL"));
});

test("a host name that does not resolve is blamed on --host", async () => {
  // .invalid never resolves (RFC 6761); without a resolver the lookup fails with an EAI_ code instead.
  await assert.rejects(probePort("no-such-host.invalid", 0), (err: unknown) => {
    assert.ok(err instanceof OptionError, String(err));
    assert.equal(err.option, "--host");
    assert.match(err.message, /^--host: no-such-host\.invalid cannot be resolved \((ENOTFOUND|EAI_\w+)\)$/);
    return true;
  });
});

test("listenError: EACCES on --port, EAI_ codes on --host, anything else a failure", () => {
  assert.ok(isOptionError("--port", "80", "EACCES")(listenError(errno("EACCES"), "0.0.0.0", 80)));
  assert.ok(
    isOptionError("--host", "feed.example", "EAI_AGAIN")(listenError(errno("EAI_AGAIN"), "feed.example", 1)),
  );
  const other = listenError(errno("EMFILE"), "127.0.0.1", 9420);
  assert.ok(!(other instanceof OptionError));
  assert.equal(other.code, "UNAVAILABLE");
  assert.equal(other.message, "cannot listen on 127.0.0.1:9420 (EMFILE)");
});
