/**
 * `tickring bench <name> [args…]`: runs a benchmark of bench/ (built into dist/bench/) as a child process
 * with its own flags, and `tickring bench report [--only a,b] [--smoke] [--duration S] [--out DIR]`, which
 * runs a set of them and writes bench/results/<date>/report.md with tables and plots.
 *
 * Every benchmark takes `--json` and `--smoke`; `--duration` (seconds per scenario) all but replay, which
 * runs a fixed number of frames (`--frames`), and recovery, whose `--duration` is the longest wait for
 * indexing. A progress line on stderr shows which benchmark runs and for how long (redrawn in place on a
 * terminal, one line at start and end otherwise); the benchmark's own stderr lines pass through.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { OptionError } from "../errors.js";

const benchDir = join(dirname(fileURLToPath(import.meta.url)), "../../bench");

/** The benchmarks, in the order `bench report` runs them. */
export const BENCH_NAMES = ["ring", "storage", "publisher", "e2e", "replay", "recovery", "peers"] as const;

/** Flags of the common set a benchmark does not take, and why (checked before it starts). */
const NOT_TAKEN: Record<string, Record<string, string>> = {
  replay: { "--duration": "replay runs a fixed number of frames: use --frames N" },
  publisher: { "--duration": "publisher runs a fixed number of messages" },
};

export function registerBenchCommand(program: Command): void {
  program
    .command("bench")
    .description(
      `run a benchmark of bench/ (${BENCH_NAMES.join(", ")}), or "report" to run a set and write ` +
        "bench/results/<date>/report.md; --help after the name for its flags",
    )
    .argument("<name>", `benchmark name: ${BENCH_NAMES.join(" | ")} | report`)
    .argument("[args...]", "arguments for the benchmark, e.g. --json --duration 5 --smoke")
    .allowUnknownOption()
    .helpOption("--bench-help", "display help for the bench command")
    .action(async (name: string, args: string[]) => {
      const script = scriptOf(name);
      for (const arg of args) {
        const why = NOT_TAKEN[name]?.[arg.split("=")[0]];
        if (why !== undefined) throw new OptionError("bench", `${name} does not take ${arg}: ${why}`);
      }
      process.exit(await runWithProgress(name, script, args));
    });
}

function scriptOf(name: string): string {
  const known = (BENCH_NAMES as readonly string[]).includes(name) || name === "report";
  const script =
    name === "report" ? join(benchDir, "report", "report.js") : join(benchDir, name, `${name}.bench.js`);
  if (!known || !existsSync(script)) {
    throw new OptionError(
      "bench",
      known
        ? `benchmark ${JSON.stringify(name)} is not built (${script}): run npm run build`
        : `unknown benchmark ${JSON.stringify(name)}: expected one of ${BENCH_NAMES.join(", ")}, report`,
    );
  }
  return script;
}

/** Runs the script; stdout is the child's, stderr passes through under a progress line. */
function runWithProgress(name: string, script: string, args: string[]): Promise<number> {
  const tty = process.stderr.isTTY === true;
  const t0 = performance.now();
  const elapsed = () => `${((performance.now() - t0) / 1000).toFixed(0)} s`;
  const status = () => `tickring bench ${name}: running, ${elapsed()}`;
  let shown = false;
  const clear = () => {
    if (shown) process.stderr.write("\r\x1b[K");
    shown = false;
  };
  const draw = () => {
    if (!tty) return;
    clear();
    process.stderr.write(status());
    shown = true;
  };
  if (tty) draw();
  else process.stderr.write(`tickring bench ${[name, ...args].join(" ")}: started\n`);
  const ticker = tty ? setInterval(draw, 1000) : undefined;

  const child = spawn(process.execPath, [script, ...args], { stdio: ["inherit", "inherit", "pipe"] });
  let partial = "";
  child.stderr!.on("data", (d: Buffer) => {
    const text = partial + d.toString();
    const lines = text.split("\n");
    partial = lines.pop()!;
    if (lines.length === 0) return;
    clear();
    process.stderr.write(`${lines.join("\n")}\n`);
    draw();
  });
  return new Promise((resolve) => {
    child.on("exit", (code, signal) => {
      if (ticker !== undefined) clearInterval(ticker);
      clear();
      if (partial !== "") process.stderr.write(`${partial}\n`);
      const exit = code ?? (signal === null ? 1 : 128);
      process.stderr.write(
        `tickring bench ${name}: ${exit === 0 ? "done" : `exit ${exit}`} in ${elapsed()}\n`,
      );
      resolve(exit);
    });
  });
}
