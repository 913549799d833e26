/**
 * Logs a person can read: on a terminal the daemon writes pino-pretty's coloured lines (a pseudo-terminal
 * from util-linux's `script`, part of every Debian system), elsewhere JSON lines — which every other test
 * of the daemon reads (test/support/daemon.ts parses them).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import { stripVTControlCharacters } from "node:util";
import { tempDir } from "../support/daemon.js";
import { CLI } from "./run.js";

/** An SGR escape sequence (ESC [ n m), as colours are written. */
const ANSI_COLOUR = new RegExp(`${String.fromCharCode(27)}\\[\\d+m`);

/** Runs `tickring serve` on a pseudo-terminal until its ready line, then stops it; returns what it wrote. */
async function serveOnTerminal(env: NodeJS.ProcessEnv): Promise<string> {
  const dir = tempDir();
  const command = `${process.execPath} ${CLI} serve --port 0 --workers 1 --data ${dir.path}`;
  const child = spawn("script", ["-qefc", command, "/dev/null"], {
    env: { ...process.env, ...env },
    stdio: ["pipe", "pipe", "inherit"],
  });
  let out = "";
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ready line in:\n${out}`)), 20_000);
      child.stdout.on("data", (d) => {
        out += d;
        if (/tickring serving[\s\S]*seq:/.test(stripVTControlCharacters(out))) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  } finally {
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
    dir.remove();
  }
  return out;
}

test("on a terminal: coloured lines, and the ready line says where to connect and what is on", async () => {
  const out = await serveOnTerminal({});
  assert.match(out, ANSI_COLOUR, "coloured");
  const plain = stripVTControlCharacters(out);
  const port = /port: (\d+)/.exec(plain.slice(plain.indexOf("tickring serving")))![1];
  assert.match(plain, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: tickring serving$/m);
  for (const line of [
    `feed: "ws://127.0.0.1:${port}/v1/feed"`,
    `health: "http://127.0.0.1:${port}/healthz"`,
    'demo: "off"',
    'fsync: "batch"',
    "retention: ",
    "auth: ",
    "transport: ",
  ]) {
    assert.ok(plain.includes(line), `${line} in:\n${plain}`);
  }
  assert.doesNotMatch(plain, /^\{"level"/m, "no JSON lines");
});

test("NO_COLOR keeps the terminal lines plain", async () => {
  const out = await serveOnTerminal({ NO_COLOR: "1" });
  assert.doesNotMatch(out, ANSI_COLOUR);
  assert.match(out, /INFO: tickring serving/);
});
