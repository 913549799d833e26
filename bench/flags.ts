/**
 * How a benchmark declares its flags, once: each flag's value, default and help. From that one declaration
 * (the benchmark's {@link BenchSpec} in bench/catalog.ts) come its `--help`, the checks `tickring bench
 * <name>` makes before it starts the benchmark, and the typed values the benchmark runs with. A bad
 * flag is an {@link OptionError} naming it, printed as one line with exit status 2, like every tickring
 * command.
 */
import { OptionError } from "../src/errors.js";

/** One flag: `--name ARG` (or a switch, without `arg`), its default and how its text is read. */
export interface Flag<T> {
  /** The value's placeholder in the usage (`S`, `N`, `REGEX`); absent for a switch. */
  arg?: string;
  help: string;
  default: T;
  /** The default as the usage says it; absent = no default shown. */
  shownDefault?: string;
  /** Reads the value's text; throws an Error saying what was expected. Absent for a switch. */
  parse?(text: string): T;
}

/** A benchmark: its name under `tickring bench`, its script under dist/bench/, what it does, its flags. */
export interface BenchSpec<F extends Record<string, Flag<unknown>> = Record<string, Flag<unknown>>> {
  name: string;
  /** The script, relative to dist/bench/. */
  script: string;
  /** One line for `tickring bench --help`; the usage prints it with {@link BenchSpec.details}. */
  summary: string;
  /** More lines for the benchmark's own `--help`. */
  details?: string;
  flags: F;
  /** Flags other benchmarks take that this one does not, with the reason and what to use instead. */
  refused?: Record<string, string>;
  /** Rules across flags, checked after each flag is read; throws an {@link OptionError} naming the flag. */
  check?(values: FlagValues<F>): void;
}

/** The values a benchmark runs with, keyed like its flags. */
export type FlagValues<F extends Record<string, Flag<unknown>>> = {
  [K in keyof F]: F[K] extends Flag<infer T> ? T : never;
};

/** Declares a benchmark (keeps its flags' types for {@link benchFlags}). */
export function defineBench<F extends Record<string, Flag<unknown>>>(spec: BenchSpec<F>): BenchSpec<F> {
  return spec;
}

/** A switch: false unless given. */
export function toggle(help: string): Flag<boolean> {
  return { help, default: false };
}

/** A positive number of seconds (fractions allowed). */
export function seconds<T extends number | undefined>(help: string, def: T): Flag<number | T> {
  return valued<number | T>("S", help, def, (text) => {
    const s = Number(text);
    if (text.trim() === "" || !(s > 0) || !Number.isFinite(s))
      throw new Error("expected a positive number of seconds");
    return s;
  });
}

/** An integer of at least `min`. */
export function count<T extends number | undefined>(help: string, def: T, min = 1): Flag<number | T> {
  return valued<number | T>("N", help, def, (text) => {
    if (!/^\d+$/.test(text) || Number(text) < min) throw new Error(`expected an integer ≥ ${min}`);
    return Number(text);
  });
}

/** A regular expression; the default matches everything. */
export function pattern(help: string): Flag<RegExp> {
  return {
    ...valued("REGEX", help, /(?:)/, (text) => {
      try {
        return new RegExp(text);
      } catch (err) {
        throw new Error(`not a regular expression: ${(err as Error).message}`, { cause: err });
      }
    }),
    shownDefault: "all",
  };
}

/** Free text, unset by default (or checked by `check`, which throws saying what was expected). */
export function text(arg: string, help: string, check?: (text: string) => void): Flag<string | undefined> {
  return valued(arg, help, undefined, (t) => {
    check?.(t);
    return t;
  });
}

/** A comma-separated list; `item` reads one element and throws saying what was expected. */
export function list<T>(arg: string, help: string, def: T[], item: (text: string) => T): Flag<T[]> {
  return {
    ...valued(arg, help, def, (t) =>
      t
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "")
        .map(item),
    ),
    shownDefault: def.join(","),
  };
}

function valued<T>(arg: string, help: string, def: T, parse: (text: string) => T): Flag<T> {
  return { arg, help, default: def, parse, shownDefault: def === undefined ? undefined : String(def) };
}

/** True when `argv` asks for the usage (`--help` or `-h` before any `--`). */
export function wantsHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf("--");
  return (end === -1 ? argv : argv.slice(0, end)).some((a) => a === "--help" || a === "-h");
}

/** The usage `--help` prints: the command, what it does, each flag with its default. */
export function benchUsage(spec: BenchSpec): string {
  const rows = Object.entries(spec.flags).map(([name, f]) => [
    `--${name}${f.arg === undefined ? "" : ` ${f.arg}`}`,
    f.shownDefault === undefined ? f.help : `${f.help} (default: ${f.shownDefault})`,
  ]);
  rows.push(["--help", "print this help"]);
  const width = Math.max(...rows.map(([left]) => left.length));
  const details = spec.details === undefined ? "" : `\n${spec.details.trim()}`;
  return (
    `usage: tickring bench ${spec.name} [flags]\n\n${spec.summary}${details}\n\nflags:\n` +
    rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`).join("\n") +
    "\n"
  );
}

/**
 * Reads `argv` (`--name value`, `--name=value`, `--switch`) against the declaration; flags not given
 * take their defaults. Throws an {@link OptionError} naming the first bad flag.
 */
export function parseBenchFlags<F extends Record<string, Flag<unknown>>>(
  spec: BenchSpec<F>,
  argv: readonly string[],
): FlagValues<F> {
  const values: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(spec.flags)) values[name] = f.default;
  const seeHelp = `see tickring bench ${spec.name} --help`;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--help" || arg === "-h") continue;
    if (!arg.startsWith("--") || arg === "--") {
      throw new OptionError(`bench ${spec.name}`, `unexpected argument ${JSON.stringify(arg)} (${seeHelp})`);
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const flag = Object.hasOwn(spec.flags, name) ? spec.flags[name] : undefined;
    if (flag === undefined) {
      const why = spec.refused?.[name];
      throw new OptionError(`--${name}`, `not a flag of bench ${spec.name}: ${why ?? seeHelp}`);
    }
    if (flag.parse === undefined) {
      if (eq !== -1) throw new OptionError(`--${name}`, "is a switch and takes no value");
      values[name] = true;
      continue;
    }
    const text = eq !== -1 ? arg.slice(eq + 1) : argv[i + 1];
    if (text === undefined || (eq === -1 && text.startsWith("--"))) {
      throw new OptionError(`--${name}`, `needs a value (${flag.arg})`);
    }
    if (eq === -1) i++;
    try {
      values[name] = flag.parse(text);
    } catch (err) {
      throw new OptionError(`--${name}`, `${(err as Error).message}, got ${JSON.stringify(text)}`, {
        cause: err,
      });
    }
  }
  spec.check?.(values as FlagValues<F>);
  return values as FlagValues<F>;
}

/**
 * The benchmark's own entry: its flags from `process.argv`, or its usage on stdout and exit 0 for
 * `--help`, or one line on stderr and exit 2 for a bad flag.
 */
export function benchFlags<F extends Record<string, Flag<unknown>>>(spec: BenchSpec<F>): FlagValues<F> {
  const argv = process.argv.slice(2);
  if (wantsHelp(argv)) {
    process.stdout.write(benchUsage(spec));
    process.exit(0);
  }
  try {
    return parseBenchFlags(spec, argv);
  } catch (err) {
    if (!(err instanceof OptionError)) throw err;
    process.stderr.write(`${spec.name}: ${err.message}\n`);
    process.exit(2);
  }
}
