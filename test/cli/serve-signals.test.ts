import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { test } from "node:test";
import { tempDir } from "../support/daemon.js";
import { CLI } from "./run.js";

test("a SIGTERM while the daemon starts stops it cleanly once started (exit 0), not by default (a signal death)", async () => {
  const dir = tempDir();
  try {
    const child = spawn(
      process.execPath,
      [CLI, "serve", "--port", "0", "--data", dir.path, "--workers", "1"],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const lines: string[] = [];
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      lines.push(line);
      // The first log line comes from inside the start, long before it serves.
      if (lines.length === 1 && line.includes('"recovering"')) child.kill("SIGTERM");
    });
    assert.equal(await exited, 0, lines.join("\n"));
    assert.ok(
      lines.some((l) => l.includes('"tickring stopped"')),
      "it shut down cleanly",
    );
  } finally {
    dir.remove();
  }
});
