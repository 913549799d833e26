/**
 * Argument parsing for the benchmarks of bench/e2e, bench/peers and bench/report: `--help` prints the
 * usage and exits 0; an unknown or malformed flag prints one line and exits 2, like the `tickring` CLI.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";

type Options = NonNullable<ParseArgsConfig["options"]>;
type Values<O extends Options> = ReturnType<typeof parseArgs<{ options: O }>>["values"];

export function parseBenchArgs<O extends Options>(name: string, usage: string, options: O): Values<O> {
  if (process.argv.slice(2).includes("--help")) {
    process.stdout.write(`${usage.trim()}\n`);
    process.exit(0);
  }
  try {
    return parseArgs({ options }).values as Values<O>;
  } catch (err) {
    process.stderr.write(`${name}: ${(err as Error).message.split("\n")[0]}\n`);
    process.exit(2);
  }
}
