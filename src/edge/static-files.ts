/**
 * The dashboard's files, served from memory: `GET /dashboard` is its page, `GET /dashboard/<file>` the
 * files the build put beside it (scripts/build-dashboard.mjs writes them to dist/dashboard: the page, its
 * script and style sheet with a content hash in their names, and a gzip copy of each). Read once when a
 * socket worker starts; a request is a map lookup, so no path ever reaches the file system.
 *
 * Caching: the page is `no-cache` (revalidated by its ETag, 304 when unchanged), so a new build is seen at
 * once; the hashed files are `immutable` for a year, since a new build gives them new names. Every answer
 * carries a strict Content-Security-Policy: the page may load scripts, styles and images only from the
 * daemon, and connect only to it (`connect-src 'self'` takes in the daemon's own WebSocket).
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { TickringError } from "../errors.js";

/** Where the build puts the dashboard, relative to this module in dist/src/edge. */
export const DASHBOARD_DIR = fileURLToPath(new URL("../../dashboard/", import.meta.url));

/** The page's file; every other file is content-hashed. */
const PAGE = "index.html";

/** Nothing from anywhere but the daemon; no inline script or style; not framed. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

const COMMON_HEADERS: [string, string][] = [
  ["content-security-policy", CONTENT_SECURITY_POLICY],
  ["x-content-type-options", "nosniff"],
  ["referrer-policy", "no-referrer"],
  ["vary", "accept-encoding"],
];

/** An answer: status line, headers and body (empty for 304). */
export interface StaticAnswer {
  status: string;
  headers: [string, string][];
  body: Uint8Array;
}

/** One file as served, plain and (when the build made one) gzipped. */
interface Entry {
  type: string;
  cacheControl: string;
  plain: Variant;
  gzip: Variant | undefined;
}

interface Variant {
  body: Uint8Array;
  etag: string;
}

export class StaticFiles {
  private constructor(
    private readonly mount: string,
    private readonly files: ReadonlyMap<string, Entry>,
  ) {}

  /**
   * The files of `dir` served under `mount` (e.g. `/dashboard`). A missing `dir` (a build without the
   * dashboard) serves nothing: every request is answered 404, saying so.
   */
  static load(dir: string, mount: string): StaticFiles {
    const files = new Map<string, Entry>();
    if (!existsSync(dir)) return new StaticFiles(mount, files);
    const names = new Set(readdirSync(dir));
    for (const name of names) {
      const type = CONTENT_TYPES[extname(name)];
      if (type === undefined) continue;
      const gz = `${name}.gz`;
      files.set(name, {
        type,
        cacheControl: name === PAGE ? "no-cache" : "public, max-age=31536000, immutable",
        plain: variant(readFileSync(join(dir, name)), ""),
        gzip: names.has(gz) ? variant(readFileSync(join(dir, gz)), "-gz") : undefined,
      });
    }
    return new StaticFiles(mount, files);
  }

  /**
   * The answer to `GET path` with the request's `Accept-Encoding` and `If-None-Match` headers: the file
   * (gzipped when the client takes it), 304 when the client's copy is current, or a NOT_FOUND error.
   */
  answer(path: string, acceptEncoding: string, ifNoneMatch: string): StaticAnswer | TickringError {
    const entry = this.files.get(this.fileOf(path));
    if (entry === undefined) {
      const why = this.files.size === 0 ? ": the dashboard was not built (npm run build builds it)" : "";
      return new TickringError("NOT_FOUND", `no file GET ${path.slice(0, 100)}${why}`);
    }
    const gzip = entry.gzip !== undefined && /\bgzip\b/.test(acceptEncoding);
    const v = gzip ? entry.gzip! : entry.plain;
    const headers: [string, string][] = [
      ...COMMON_HEADERS,
      ["cache-control", entry.cacheControl],
      ["etag", v.etag],
    ];
    if (ifNoneMatch !== "" && ifNoneMatch.split(",").some((tag) => tag.trim() === v.etag)) {
      return { status: "304 Not Modified", headers, body: new Uint8Array(0) };
    }
    headers.push(["content-type", entry.type]);
    if (gzip) headers.push(["content-encoding", "gzip"]);
    return { status: "200 OK", headers, body: v.body };
  }

  /** The file a path names: the page for the mount itself, else the name after `<mount>/`. */
  private fileOf(path: string): string {
    if (path === this.mount || path === `${this.mount}/`) return PAGE;
    return path.startsWith(`${this.mount}/`) ? path.slice(this.mount.length + 1) : "";
  }
}

/** A body and its strong ETag; the gzip copy's differs (`suffix`), as HTTP wants of another encoding. */
function variant(body: Buffer, suffix: string): Variant {
  const hash = createHash("sha256").update(body).digest("base64url").slice(0, 22);
  return { body, etag: `"${hash}${suffix}"` };
}
