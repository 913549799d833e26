/**
 * Options of the daemon: one typed interface, defaults in one place, validated once. The CLI, the config
 * file (`--config FILE`, JSON with the same keys), environment variables (`TICKRING_<KEY>`, e.g.
 * `TICKRING_PORT`) and the embedding API all go through {@link resolveServeOptions}.
 * Precedence: explicit values > environment > config file > defaults.
 */
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { OptionError } from "../errors.js";
import { parseDuration } from "./duration.js";

export type FsyncPolicy = "always" | "batch" | "os";
export type SlowConsumerPolicy = "drop" | "conflate" | "disconnect";

/** The synthetic market of `--demo[=symbols:rate]`. */
export interface DemoOptions {
  /** @default 50 */
  symbols: number;
  /** Ticks per second over all symbols. @default 10000 */
  rate: number;
}

export interface ServeOptions {
  /** Data directory (WAL, store, snapshots). @default "./data" */
  data: string;
  /** Interface to listen on. @default "127.0.0.1" */
  host: string;
  /** Port of feeds, ingest and HTTP; 0 picks a free one. @default 9420 */
  port: number;
  /** Subscriber worker threads. @default the CPU count */
  workers: number;
  /** Synthetic feed, or false. @default false */
  demo: DemoOptions | false;
  /** Hold-back of the `delayed` feed, ms. @default 900000 (15m) */
  delayMs: number;
  /** WAL fsync policy. @default "batch" */
  fsync: FsyncPolicy;
  /** Longest wait before a batch fsync, ms. @default 2 */
  fsyncBatchMs: number;
  /** WAL segment size before rolling, bytes. @default 64 MiB */
  walSegmentBytes: number;
  /** Shared-memory ring capacity, bytes (power of two). @default 64 MiB */
  ringBytes: number;
  /** Largest WebSocket message accepted; larger closes the connection (1009). @default 1 MiB */
  maxMessageBytes: number;
  /** Ingest messages per second per connection; 0 = unlimited. @default 0 */
  ingestRate: number;
  /** Bytes buffered for a subscriber before its slow-consumer policy applies. @default 1 MiB */
  backpressureBytes: number;
  /** What happens to a subscriber over its backpressure limit. @default "drop" */
  slowConsumer: SlowConsumerPolicy;
  /** Heartbeat interval on idle subscriptions, ms. @default 1000 */
  heartbeatMs: number;
  /** pino level. @default "info" */
  logLevel: string;
  /** Bearer token for `/v1/admin/*`; unset = admin endpoints open on the bound interface. */
  adminToken: string | undefined;
  /** Drop sealed WAL segments older than this, ms, once the store holds them. @default keep all */
  retainWalMs: number | undefined;
  /** Drop the oldest sealed WAL segments while the WAL is larger, once the store holds them. @default keep all */
  retainWalBytes: number | undefined;
  /** Drop store data older than this, ms. @default keep all */
  retainStoreMs: number | undefined;
  /** Drop the oldest store data while the store is larger (LevelDB's estimate). @default keep all */
  retainStoreBytes: number | undefined;
  /** Take an online snapshot into `<data>/snapshots/` this often, ms. @default never */
  snapshotEveryMs: number | undefined;
  /** After each scheduled snapshot, keep only the newest this many. @default keep all */
  snapshotKeep: number | undefined;
}

export function defaultServeOptions(): ServeOptions {
  return {
    data: "./data",
    host: "127.0.0.1",
    port: 9420,
    workers: availableParallelism(),
    demo: false,
    delayMs: 15 * 60_000,
    fsync: "batch",
    fsyncBatchMs: 2,
    walSegmentBytes: 64 * 1024 * 1024,
    ringBytes: 64 * 1024 * 1024,
    maxMessageBytes: 1024 * 1024,
    ingestRate: 0,
    backpressureBytes: 1024 * 1024,
    slowConsumer: "drop",
    heartbeatMs: 1000,
    logLevel: "info",
    adminToken: undefined,
    retainWalMs: undefined,
    retainWalBytes: undefined,
    retainStoreMs: undefined,
    retainStoreBytes: undefined,
    snapshotEveryMs: undefined,
    snapshotKeep: undefined,
  };
}

/** The demo feed's defaults, for a bare `--demo`. */
export const DEFAULT_DEMO: DemoOptions = { symbols: 50, rate: 10_000 };

type Parser<K extends keyof ServeOptions> = (value: unknown, name: string) => ServeOptions[K];

const PARSERS: { [K in keyof ServeOptions]: Parser<K> } = {
  data: str,
  host: str,
  port: (v, n) => int(v, n, 0, 65535),
  workers: (v, n) => int(v, n, 1, 256),
  demo: parseDemo,
  delayMs: duration,
  fsync: (v, n) => oneOf(v, n, ["always", "batch", "os"] as const),
  fsyncBatchMs: duration,
  walSegmentBytes: (v, n) => int(v, n, 64 * 1024, 2 ** 31),
  ringBytes: (v, n) => {
    const x = int(v, n, 64 * 1024, 2 ** 30);
    if ((x & (x - 1)) !== 0) throw new OptionError(n, `must be a power of two, got ${x}`);
    return x;
  },
  maxMessageBytes: (v, n) => int(v, n, 1024, 64 * 1024 * 1024),
  ingestRate: (v, n) => int(v, n, 0, 1e9),
  backpressureBytes: (v, n) => int(v, n, 1024, 1024 * 1024 * 1024),
  slowConsumer: (v, n) => oneOf(v, n, ["drop", "conflate", "disconnect"] as const),
  heartbeatMs: duration,
  logLevel: (v, n) => oneOf(v, n, ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const),
  adminToken: (v, n) => (v === undefined ? undefined : str(v, n)),
  retainWalMs: (v, n) => (v === undefined ? undefined : duration(v, n)),
  retainWalBytes: (v, n) => (v === undefined ? undefined : int(v, n, 0, Number.MAX_SAFE_INTEGER)),
  retainStoreMs: (v, n) => (v === undefined ? undefined : duration(v, n)),
  retainStoreBytes: (v, n) => (v === undefined ? undefined : int(v, n, 0, Number.MAX_SAFE_INTEGER)),
  snapshotEveryMs: (v, n) => (v === undefined ? undefined : duration(v, n)),
  snapshotKeep: (v, n) => (v === undefined ? undefined : int(v, n, 1, 100_000)),
};

/** Option keys, in the order `--help` lists them. */
export const OPTION_KEYS = Object.keys(PARSERS) as (keyof ServeOptions)[];

/** The environment variable of an option: `delayMs` → `TICKRING_DELAY_MS`. */
export function envName(key: keyof ServeOptions): string {
  return `TICKRING_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

/**
 * Merges defaults, the config file, the environment and explicit values, validating each. Values may be
 * typed (from code or JSON) or text (from the CLI or the environment). Throws {@link OptionError}.
 */
export function resolveServeOptions(
  explicit: Partial<Record<keyof ServeOptions, unknown>> = {},
  env: NodeJS.ProcessEnv = {},
  configFile?: string,
): ServeOptions {
  const out = defaultServeOptions() as unknown as Record<string, unknown>;
  const layers: [Partial<Record<string, unknown>>, (k: keyof ServeOptions) => string][] = [];
  if (configFile !== undefined) layers.push([readConfigFile(configFile), (k) => `${configFile}: ${k}`]);
  const fromEnv: Record<string, unknown> = {};
  for (const k of OPTION_KEYS) if (env[envName(k)] !== undefined) fromEnv[k] = env[envName(k)];
  layers.push([fromEnv, envName]);
  layers.push([explicit, (k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`]);
  for (const [layer, nameOf] of layers) {
    for (const [k, v] of Object.entries(layer)) {
      if (v === undefined) continue;
      const parse = PARSERS[k as keyof ServeOptions] as Parser<keyof ServeOptions> | undefined;
      if (parse === undefined) throw new OptionError(nameOf(k as keyof ServeOptions), "unknown option");
      out[k] = parse(v, nameOf(k as keyof ServeOptions));
    }
  }
  return out as unknown as ServeOptions;
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new OptionError("--config", `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new OptionError("--config", `${path} is not JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new OptionError("--config", `${path} must hold a JSON object of options`);
  }
  return parsed as Record<string, unknown>;
}

function str(v: unknown, name: string): string {
  if (typeof v !== "string" || v.length === 0) throw new OptionError(name, `expected text, got ${show(v)}`);
  return v;
}

function int(v: unknown, name: string, min: number, max: number): number {
  const x = typeof v === "string" && v.trim() !== "" ? Number(v) : v;
  if (typeof x !== "number" || !Number.isInteger(x) || x < min || x > max) {
    throw new OptionError(name, `expected an integer from ${min} to ${max}, got ${show(v)}`);
  }
  return x;
}

function duration(v: unknown, name: string): number {
  const ms = typeof v === "number" ? v : typeof v === "string" ? parseDuration(v) : undefined;
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) {
    throw new OptionError(name, `expected a duration like 500ms, 2s, 15m or 1h, got ${show(v)}`);
  }
  return ms;
}

function oneOf<T extends string>(v: unknown, name: string, allowed: readonly T[]): T {
  if (typeof v !== "string" || !(allowed as readonly string[]).includes(v)) {
    throw new OptionError(name, `expected one of ${allowed.join(", ")}, got ${show(v)}`);
  }
  return v as T;
}

/** `true`/`""` = defaults, `false` = off, `"symbols:rate"` or `{symbols, rate}`. */
function parseDemo(v: unknown, name: string): DemoOptions | false {
  if (v === false || v === "false") return false;
  if (v === true || v === "" || v === "true") return { ...DEFAULT_DEMO };
  if (typeof v === "string") {
    const m = /^(\d+):(\d+)$/.exec(v);
    if (m === null) throw new OptionError(name, `expected symbols:rate like 50:10000, got ${show(v)}`);
    return {
      symbols: int(m[1], `${name} symbols`, 1, 100_000),
      rate: int(m[2], `${name} rate`, 1, 10_000_000),
    };
  }
  if (typeof v === "object" && v !== null) {
    const o = v as Record<string, unknown>;
    return {
      symbols: int(o.symbols ?? DEFAULT_DEMO.symbols, `${name}.symbols`, 1, 100_000),
      rate: int(o.rate ?? DEFAULT_DEMO.rate, `${name}.rate`, 1, 10_000_000),
    };
  }
  throw new OptionError(name, `expected true, false or symbols:rate, got ${show(v)}`);
}

function show(v: unknown): string {
  return typeof v === "string" ? JSON.stringify(v) : String(v);
}
