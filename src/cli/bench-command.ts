/**
 * `tickring bench <name> [flags]`: runs a benchmark of bench/ (built into dist/bench/) as a child process,
 * and `tickring bench report`, which runs a set of them and writes bench/results/<date>/report.md with
 * tables and plots. Each benchmark's flags are declared once, in bench/catalog.ts: `tickring bench <name>
 * --help` prints its usage from there, and its flags are checked against it before it starts (a bad one
 * exits 2 with one line, as everywhere in the CLI).
 *
 * A progress line on stderr shows which benchmark runs and for how long (redrawn in place on a terminal,
 * one line at start and end otherwise); the benchmark's own stderr lines pass through.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { BENCHMARKS } from "../../bench/catalog.js";
import { benchUsage, parseBenchFlags, wantsHelp } from "../../bench/flags.js";
import { OptionError } from "../errors.js";

const benchDir = join(dirname(fileURLToPath(import.meta.url)), "../../bench");

export function registerBenchCommand(program: Command): void {
  const width = Math.max(...BENCHMARKS.map((b) => b.name.length));
  program
    .command("bench")
    .description("run a benchmark of bench/, or report to run a set and write a report with plots")
    .argument("<name>", BENCHMARKS.map((b) => b.name).join(" | "))
    .argument("[flags...]", "the benchmark's flags (tickring bench <name> --help lists them)")
    .passThroughOptions()
    .addHelpText(
      "after",
      `\nBenchmarks:\n${BENCHMARKS.map((b) => `  ${b.name.padEnd(width)}  ${b.summary}`).join("\n")}\n`,
    )
    .action(async (name: string, args: string[]) => {
      const spec = BENCHMARKS.find((b) => b.name === name);
      if (spec === undefined) {
        const names = BENCHMARKS.map((b) => b.name).join(", ");
        throw new OptionError("bench", `unknown benchmark ${JSON.stringify(name)}: expected one of ${names}`);
      }
      if (wantsHelp(args)) {
        process.stdout.write(benchUsage(spec));
        return;
      }
      parseBenchFlags(spec, args);
      const script = join(benchDir, spec.script);
      if (!existsSync(script)) {
        throw new OptionError(
          "bench",
          `benchmark ${name} is not here (${script}): the installed package leaves the benchmarks out; ` +
            "run them from a clone of the repository after npm run build",
        );
      }
      process.exit(await runWithProgress(name, script, args));
    });
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
