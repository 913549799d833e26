/**
 * The dashboard's files as the edge serves them (in process, on files in a temp dir): the page at the mount,
 * gzip when the client takes it, revalidation by ETag, caching by kind of file, the security headers, and no
 * way out of the folder.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import { TickringError } from "../../src/errors.js";
import { CONTENT_SECURITY_POLICY, type StaticAnswer, StaticFiles } from "../../src/edge/static-files.js";
import { tempDir } from "../support/daemon.js";

const dir = tempDir("tickring-static-");
after(() => dir.remove());
const PAGE = "<!doctype html><title>t</title>";
const SCRIPT = "console.log(1);".repeat(100);
writeFileSync(join(dir.path, "index.html"), PAGE);
writeFileSync(join(dir.path, "app-ABCD1234.js"), SCRIPT);
writeFileSync(join(dir.path, "app-ABCD1234.js.gz"), gzipSync(SCRIPT));
writeFileSync(join(dir.path, "notes.txt"), "not a type the dashboard has");
const files = StaticFiles.load(dir.path, "/dashboard");

function ok(a: StaticAnswer | TickringError): StaticAnswer {
  if (a instanceof TickringError) assert.fail(a.message);
  return a;
}
const header = (a: StaticAnswer, name: string) => a.headers.find(([n]) => n === name)?.[1];

describe("static files", () => {
  test("the page at /dashboard and /dashboard/, revalidated (no-cache), with a strict CSP", () => {
    for (const path of ["/dashboard", "/dashboard/", "/dashboard/index.html"]) {
      const a = ok(files.answer(path, "", ""));
      assert.equal(a.status, "200 OK");
      assert.equal(Buffer.from(a.body).toString(), PAGE);
      assert.equal(header(a, "content-type"), "text/html; charset=utf-8");
      assert.equal(header(a, "cache-control"), "no-cache");
      assert.equal(header(a, "content-security-policy"), CONTENT_SECURITY_POLICY);
      assert.equal(header(a, "x-content-type-options"), "nosniff");
    }
    assert.match(CONTENT_SECURITY_POLICY, /default-src 'none'/);
    assert.match(CONTENT_SECURITY_POLICY, /connect-src 'self'/);
    assert.doesNotMatch(CONTENT_SECURITY_POLICY, /unsafe|https?:|\*/);
  });

  test("a current ETag is answered 304 without a body; another encoding has another ETag", () => {
    const plain = ok(files.answer("/dashboard/app-ABCD1234.js", "", ""));
    const etag = header(plain, "etag")!;
    const again = ok(files.answer("/dashboard/app-ABCD1234.js", "", `"other", ${etag}`));
    assert.equal(again.status, "304 Not Modified");
    assert.equal(again.body.length, 0);
    const gz = ok(files.answer("/dashboard/app-ABCD1234.js", "gzip, deflate, br", ""));
    assert.notEqual(header(gz, "etag"), etag);
    assert.equal(ok(files.answer("/dashboard/app-ABCD1234.js", "gzip", etag)).status, "200 OK");
  });

  test("hashed files are immutable; gzip only to clients that take it", () => {
    const gz = ok(files.answer("/dashboard/app-ABCD1234.js", "gzip, deflate", ""));
    assert.equal(header(gz, "content-encoding"), "gzip");
    assert.equal(header(gz, "vary"), "accept-encoding");
    assert.equal(header(gz, "cache-control"), "public, max-age=31536000, immutable");
    assert.deepEqual(Buffer.from(gz.body), gzipSync(SCRIPT));
    const plain = ok(files.answer("/dashboard/app-ABCD1234.js", "identity", ""));
    assert.equal(header(plain, "content-encoding"), undefined);
    assert.equal(Buffer.from(plain.body).toString(), SCRIPT);
    assert.equal(header(plain, "content-type"), "text/javascript; charset=utf-8");
  });

  test("anything else is NOT_FOUND: unknown names, other types, paths that climb out", () => {
    for (const path of [
      "/dashboard/nope.js",
      "/dashboard/notes.txt",
      "/dashboard/../package.json",
      "/dashboard/app-ABCD1234.js.gz",
      "/dashboardx",
    ]) {
      const a = files.answer(path, "", "");
      assert.ok(a instanceof TickringError && a.code === "NOT_FOUND", path);
    }
  });

  test("without a built dashboard every request says so", () => {
    const none = StaticFiles.load(join(dir.path, "missing"), "/dashboard");
    const a = none.answer("/dashboard", "", "");
    assert.ok(a instanceof TickringError);
    assert.match(a.message, /the dashboard was not built \(npm run build builds it\)/);
  });
});
