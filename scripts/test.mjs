// Runs the built tests (dist/test/**/*.test.js, or those under the folders given) with node's test runner,
// one file at a time, on the Node running this script. Node 20's runner takes a folder but Node 22's
// takes files or globs only (a folder is read as a module), so the files are listed here for both.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

function testFiles(path) {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .sort()
    .flatMap((name) => {
      const p = join(path, name);
      return statSync(p).isDirectory() ? testFiles(p) : name.endsWith(".test.js") ? [p] : [];
    });
}

const roots = process.argv.length > 2 ? process.argv.slice(2) : ["dist/test"];
const files = roots.flatMap(testFiles);
if (files.length === 0) {
  console.error(`no test files under ${roots.join(", ")}`);
  process.exit(1);
}
const r = spawnSync(process.execPath, ["--test", "--test-concurrency=1", ...files], { stdio: "inherit" });
process.exit(r.status ?? 1);
