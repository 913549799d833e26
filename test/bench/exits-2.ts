/** The CLI contract for misuse, shared by the benchmark tests: exit status 2 and one line on stderr. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";

/** Runs `node script ...args` for each `args` and asserts it exits 2 with exactly one line on stderr. */
export async function assertExits2(script: string, argsList: string[][]): Promise<void> {
  for (const args of argsList) {
    await assert.rejects(
      promisify(execFile)(process.execPath, [script, ...args]),
      (err: { code: number; stderr: string }) => {
        assert.equal(err.code, 2, args.join(" "));
        assert.equal(err.stderr.trim().split("\n").length, 1, err.stderr);
        return true;
      },
    );
  }
}
