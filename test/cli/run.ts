/** Runs the built `tickring` CLI in a child process and returns its exit status and output. */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

export const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `node [script] args…` with `env` added to this process's environment; never rejects. */
export function run(args: string[], env: NodeJS.ProcessEnv = {}, script = CLI): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [script, ...args],
      { env: { ...process.env, ...env }, timeout: 30_000 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** The one line a failed command writes on stderr (fails the test when there is more than one). */
export function oneLine(r: Run): string {
  const lines = r.stderr.trimEnd().split("\n");
  if (lines.length !== 1) throw new Error(`expected one line on stderr, got:\n${r.stderr}`);
  return lines[0];
}
