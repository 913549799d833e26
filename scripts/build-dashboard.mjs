// Builds the dashboard (src/dashboard) into dist/dashboard, which the daemon serves at GET /dashboard:
// the script and its style sheet bundled and minified by esbuild, with a content hash in their names (so the
// daemon can tell browsers to keep them for good), the icon likewise, and the page with those names filled
// in. Each file gets a gzip copy beside it when that is smaller. Type-checking is `tsc -p
// src/dashboard/tsconfig.json`, run before this by `npm run build`.
//
//   node scripts/build-dashboard.mjs
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const src = join(root, "src/dashboard");
const out = join(root, "dist/dashboard");

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const result = await build({
  entryPoints: { app: join(src, "main.ts") },
  bundle: true,
  minify: true,
  format: "esm",
  target: ["chrome111", "firefox115", "safari16.4"],
  outdir: out,
  entryNames: "[name]-[hash]",
  metafile: true,
  legalComments: "eof",
  logLevel: "warning",
});

/** The hashed name esbuild gave each entry's output, by extension: { ".js": "app-XXXX.js", ".css": … }. */
const names = {};
for (const file of Object.keys(result.metafile.outputs)) names[extname(file)] = basename(file);

const icon = readFileSync(join(src, "icon.svg"));
const iconName = `icon-${createHash("sha256").update(icon).digest("hex").slice(0, 8).toUpperCase()}.svg`;
writeFileSync(join(out, iconName), icon);

const page = readFileSync(join(src, "index.html"), "utf8")
  .replace("{{app.js}}", `/dashboard/${names[".js"]}`)
  .replace("{{app.css}}", `/dashboard/${names[".css"]}`)
  .replace("{{icon.svg}}", `/dashboard/${iconName}`);
if (page.includes("{{")) throw new Error("build-dashboard: a {{placeholder}} of index.html was not filled");
writeFileSync(join(out, "index.html"), page);

for (const name of readdirSync(out)) {
  const body = readFileSync(join(out, name));
  const gz = gzipSync(body, { level: 9 });
  if (gz.length < body.length) writeFileSync(join(out, `${name}.gz`), gz);
}
