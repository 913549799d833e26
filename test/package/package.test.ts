/**
 * The installable package: `npm pack` holds only what the daemon needs, and the tarball installs and
 * serves — as a dependency (`npx tickring serve`), through `npx ./tickring-<version>.tgz` (the README's quick
 * start) and installed globally (`npm i -g`). npm installs from its cache when it can (`--prefer-offline`:
 * `npm ci` filled it), else from the registry.
 *
 * Packing runs with `--ignore-scripts`: `prepack` rebuilds dist/, which the running suite is using; dist/ is
 * already built by `npm test`.
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { Client, tempDir } from "../support/daemon.js";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const NPM_FLAGS = ["--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"];
const dir = tempDir("tickring-package-");
let tarball = "";
let files: string[] = [];

/** Runs a command to its end; rejects with its output when it fails. */
function sh(cmd: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, timeout: 180_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`${cmd} ${args.join(" ")}: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/**
 * A `tickring serve` started by `cmd` (npx runs it as a child: the daemon's own pid, from its log, gets the
 * SIGTERM; `cmd` then exits with the daemon's status). Its own process group, cut if anything is left.
 */
async function serve(
  cmd: string,
  args: string[],
  cwd: string,
): Promise<{ port: number; stop(): Promise<number | null> }> {
  const child: ChildProcess = spawn(cmd, args, { cwd, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const { port, pid } = await new Promise<{ port: number; pid: number }>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (!line.startsWith("{")) return;
      const entry = JSON.parse(line) as { msg?: string; port?: number; pid?: number };
      if (entry.msg === "tickring serving") resolve({ port: entry.port!, pid: entry.pid! });
    });
    exited.then((code) => reject(new Error(`${cmd} ${args.join(" ")} exited with ${code}: ${stderr}`)));
  });
  return {
    port,
    stop: async () => {
      process.kill(pid, "SIGTERM");
      const code = await exited;
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // The group is gone already.
      }
      return code;
    },
  };
}

/** Subscribes to the demo's feed and waits for live frames. */
async function seesTicks(port: number): Promise<void> {
  const feed = await Client.connect(`ws://127.0.0.1:${port}/v1/feed`);
  feed.send({ op: "subscribe", id: 1, symbols: ["*"], format: "json" });
  await feed.until(() => feed.text.filter((m) => m.op === undefined).length >= 10, "ticks");
  feed.close();
}

describe("the npm package", () => {
  before(async () => {
    const packed = JSON.parse(
      await sh("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", dir.path], ROOT),
    ) as { filename: string; files: { path: string }[] }[];
    tarball = join(dir.path, packed[0].filename);
    files = packed[0].files.map((f) => f.path);
  });
  after(() => dir.remove());

  test("holds the built daemon and its docs, not the tests, sources, maps or benchmarks", async () => {
    for (const f of [
      "dist/src/cli/main.js",
      "dist/src/index.d.ts",
      "README.md",
      "examples/tickring.config.json",
    ]) {
      assert.ok(files.includes(f), `${f} packed`);
    }
    assert.deepEqual(
      files.filter(
        (f) => /^dist\/test\/|^src\/|^test\/|\.map$|^bench\/|\.ts$/.test(f) && !f.endsWith(".d.ts"),
      ),
      [],
    );
    assert.deepEqual(
      files.filter((f) => f.startsWith("dist/bench/")).sort(),
      ["dist/bench/catalog.js", "dist/bench/flags.js"],
      "only what tickring bench --help needs",
    );
    const manifest = JSON.parse(await sh("tar", ["-xOzf", tarball, "package/package.json"], dir.path)) as {
      dependencies: Record<string, string>;
      optionalDependencies: Record<string, string>;
    };
    // (nats is not among them: replication's link to JetStream is part of the daemon.)
    for (const benchOnly of ["vega", "vega-lite", "piscina", "hdr-histogram-js"]) {
      assert.equal(manifest.dependencies[benchOnly], undefined, `${benchOnly} is a runtime dependency`);
    }
    assert.ok(
      manifest.dependencies.ws !== undefined && manifest.optionalDependencies.bufferutil !== undefined,
    );
    assert.ok(manifest.dependencies.nats !== undefined, "nats: --replicate and --follow need it");
  });

  test("installed as a dependency: npx tickring serve serves the demo", async () => {
    const app = join(dir.path, "app");
    await sh("mkdir", ["-p", app], dir.path);
    writeFileSync(join(app, "package.json"), '{"private":true}\n');
    await sh("npm", ["install", ...NPM_FLAGS, tarball], app);
    const daemon = await serve("npx", ["tickring", "serve", "--demo", "--port", "0", "--data", "data"], app);
    try {
      await seesTicks(daemon.port);
    } finally {
      assert.equal(await daemon.stop(), 0);
    }
    const help = await sh("npx", ["tickring", "bench", "e2e"], app).catch((err: Error) => err.message);
    assert.match(help, /the installed package leaves the benchmarks out/);
  });

  test("the README's quick start: npx ./tickring-<version>.tgz serve --demo", async () => {
    const name = tarball.slice(dir.path.length + 1);
    const daemon = await serve(
      "npx",
      ["--yes", `./${name}`, "serve", "--demo", "--port", "0", "--data", "qs"],
      dir.path,
    );
    try {
      await seesTicks(daemon.port);
    } finally {
      assert.equal(await daemon.stop(), 0);
    }
  });

  test("npm i -g puts tickring on the PATH", async () => {
    const prefix = join(dir.path, "global");
    await sh("npm", ["install", "--global", "--prefix", prefix, ...NPM_FLAGS, tarball], dir.path);
    const version = JSON.parse(await sh("npm", ["pkg", "get", "version"], ROOT)) as string;
    assert.equal((await sh(join(prefix, "bin", "tickring"), ["--version"], dir.path)).trim(), version);
    const daemon = await serve(
      join(prefix, "bin", "tickring"),
      ["serve", "--port", "0", "--data", "g"],
      dir.path,
    );
    assert.equal((await fetch(`http://127.0.0.1:${daemon.port}/healthz`)).status, 200);
    assert.equal(await daemon.stop(), 0);
  });
});
