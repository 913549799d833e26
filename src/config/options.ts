/**
 * Options of the daemon: one typed interface, defaults in one place, one declaration per option
 * ({@link SPECS}: its flag, help and parser), validated once. Four ways in, all through here:
 *
 * - the embedding API, `Tickring.start(options)` → {@link resolveServeOptions}: typed values keyed as in
 *   {@link ServeOptions}; a number is in the unit its key names (`delayMs: 900000`, `retainWalBytes: 1e9`);
 * - command-line flags (`--delay 15m`), the environment (`TICKRING_DELAY=15m`: `TICKRING_` and the flag's
 *   name, upper-case, `-` → `_`) and a JSON config file (`--config FILE` or `TICKRING_CONFIG`) →
 *   {@link resolveCliServeOptions}. Precedence: flags > environment > config file > defaults.
 *
 * Text (a flag, a variable, any string) is read the same everywhere: a duration carries its unit (`30s`,
 * `15m`; a unit-less `0` only where 0 means "off"), a byte size is an integer of bytes or has a unit
 * (`512MiB`, `1GB`). A config file's keys are either the option keys (`delayMs`, taking what the API
 * takes) or the flag names (`delay`, `fsync-batch`, taking what the flag takes: `"delay": "15m"`), one
 * spelling per option. Errors name the option as the user wrote it: `--delay`, `TICKRING_DELAY`,
 * `FILE: delay`, or the key (`delayMs`) for the API.
 */
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import leven from "leven";
import { OptionError } from "../errors.js";
import { BAR_INTERVAL_RULE, parseBarInterval } from "./bar-interval.js";
import { formatByteSize, parseByteSize } from "./byte-size.js";
import { DURATION_UNITS, formatDuration, parseDuration } from "./duration.js";

export type FsyncPolicy = "always" | "batch" | "os";
/** When a publisher's ack goes out on a replicating leader: once durable here, or once in the stream too. */
export type AckAfter = "durable" | "replicated";
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
  /** Hold-back of the `delayed` feed, ms; 0 = none. @default 900000 (15m) */
  delayMs: number;
  /** WAL fsync policy. @default "batch" */
  fsync: FsyncPolicy;
  /** Longest wait before a batch fsync, ms; 0 = sync without waiting for more. @default 2 */
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
  /** Heartbeat interval on idle subscriptions, ms (at least 1). @default 1000 */
  heartbeatMs: number;
  /** pino level. @default "info" */
  logLevel: string;
  /** Bearer token for `/v1/admin/*` (auth off only); unset = admin endpoints open on loopback. */
  adminToken: string | undefined;
  /** File holding the HS256 secret tokens are signed with; auth is on when this or `authJwks` is set. */
  authSecretFile: string | undefined;
  /** File holding a JSON Web Key Set of the public keys tokens are signed with (RS256, ES256, EdDSA). */
  authJwks: string | undefined;
  /** Serve beyond loopback without auth (said in the log and in /healthz). @default false */
  insecure: boolean;
  /** Browser origins allowed to open WebSockets; unset = any on /v1/feed, none on /v1/ingest. */
  allowedOrigins: string[] | undefined;
  /** Drop sealed WAL segments older than this, ms, once the store holds them. @default keep all */
  retainWalMs: number | undefined;
  /** Drop the oldest sealed WAL segments while the WAL is larger, once the store holds them. @default keep all */
  retainWalBytes: number | undefined;
  /** Drop store data older than this, ms. @default keep all */
  retainStoreMs: number | undefined;
  /** Drop the oldest store data while the store is larger (LevelDB's estimate). @default keep all */
  retainStoreBytes: number | undefined;
  /** Take an online snapshot into `<data>/snapshots/` this often, ms; 0 = never. @default never */
  snapshotEveryMs: number | undefined;
  /** After each scheduled snapshot, keep only the newest this many. @default keep all */
  snapshotKeep: number | undefined;
  /**
   * WebSocket server: `uws` (native uWebSockets.js; refuses to start without a build that loads), `ws`
   * (JavaScript, any Node version, slower), `auto` (uws when a native build loads, else ws, saying why).
   * @default "auto"
   */
  transport: "auto" | "uws" | "ws";
  /** Open WebSocket connections from one IP address, over all workers. @default 1000 */
  maxConnectionsPerIp: number;
  /** Subscriptions open on one connection. @default 100 */
  maxSubscriptions: number;
  /** Symbols over all subscriptions of one connection. @default 10000 */
  maxSymbols: number;
  /** Historical replays running on one connection. @default 8 */
  maxReplays: number;
  /** Historical replays running in one worker (each holds a 1 MiB buffer and a file). @default 64 */
  maxReplaysPerWorker: number;
  /** Bytes of last values (one frame per symbol) the daemon keeps, over all workers. @default 64 MiB */
  lastValueBytes: number;
  /** Bytes of frames held for conflating subscribers, over all workers. @default 64 MiB */
  conflateBytes: number;
  /**
   * Bytes all subscribers' sockets may hold unsent, over all workers: split between a worker's connections,
   * it lowers each one's backpressure limit as connections add up. @default 256 MiB
   */
  sendBufferBytes: number;
  /**
   * Lead a replication group: append the log to this NATS JetStream (`nats://host:port`, comma-separated
   * for a cluster) and take the leader lease. @default off
   */
  replicate: string | undefined;
  /** Follow the log a leader replicates to this NATS JetStream: a read-only node. @default off */
  follow: string | undefined;
  /** The JetStream stream of the replicated log (subject `<stream>.log`, lease bucket `<stream>-leader`). @default "tickring" */
  stream: string;
  /** Copies JetStream keeps of the stream and the lease when the leader creates them: 1, 3 or 5. @default 1 */
  streamReplicas: number;
  /** With `replicate`: ack a publisher once the tick is durable here, or once the stream has it too. @default "durable" */
  ackAfter: AckAfter;
  /** With `replicate`: follow first, and lead only once the leader's lease lapses. @default false */
  standby: boolean;
  /** Intervals of the OHLCV bars the daemon computes from trades, ms (whole seconds); [] = none. @default [1000, 60000] */
  barIntervalsMs: number[];
  /** How long after its end a bar waits for late trades before it is emitted, ms. @default 250 */
  barGraceMs: number;
}

/** What one connection, and one worker, may hold of the feeds (from the options of the same names). */
export interface FeedLimits {
  /** Subscriptions per connection. */
  subscriptions: number;
  /** Symbols over all subscriptions of a connection (`*` counts as one). */
  symbols: number;
  /** Historical replays per connection. */
  replays: number;
  /** Historical replays per worker. */
  replaysPerWorker: number;
}

/** The feed limits of `o`. */
export function feedLimitsOf(o: ServeOptions): FeedLimits {
  return {
    subscriptions: o.maxSubscriptions,
    symbols: o.maxSymbols,
    replays: o.maxReplays,
    replaysPerWorker: o.maxReplaysPerWorker,
  };
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
    walSegmentBytes: 64 * MiB,
    ringBytes: 64 * MiB,
    maxMessageBytes: MiB,
    ingestRate: 0,
    backpressureBytes: MiB,
    slowConsumer: "drop",
    heartbeatMs: 1000,
    logLevel: "info",
    adminToken: undefined,
    authSecretFile: undefined,
    authJwks: undefined,
    insecure: false,
    allowedOrigins: undefined,
    retainWalMs: undefined,
    retainWalBytes: undefined,
    retainStoreMs: undefined,
    retainStoreBytes: undefined,
    snapshotEveryMs: undefined,
    snapshotKeep: undefined,
    transport: "auto",
    maxConnectionsPerIp: 1000,
    maxSubscriptions: 100,
    maxSymbols: 10_000,
    maxReplays: 8,
    maxReplaysPerWorker: 64,
    lastValueBytes: 64 * MiB,
    conflateBytes: 64 * MiB,
    sendBufferBytes: 256 * MiB,
    replicate: undefined,
    follow: undefined,
    stream: "tickring",
    streamReplicas: 1,
    ackAfter: "durable",
    standby: false,
    barIntervalsMs: [1000, 60_000],
    barGraceMs: 250,
  };
}

/** The demo feed's defaults, for a bare `--demo`. */
export const DEFAULT_DEMO: DemoOptions = { symbols: 50, rate: 10_000 };

/**
 * `TICKRING_` variables that are not options but that tickring's own tests set, and that a daemon started
 * under them inherits. Any other unknown `TICKRING_` variable is refused: it is most likely a misspelt or
 * renamed option (`TICKRING_DELAY_MS` before the variables mirrored the flags), silently ignored otherwise.
 */
const OTHER_VARIABLES: Record<string, string> = {
  TICKRING_CRASH_CYCLES: "crash-and-restart cycles of test/recovery/crash-loop.test.ts",
};

/** The variable that names the config file, beside `--config`. */
const CONFIG_VARIABLE = "TICKRING_CONFIG";

/** How one kind of value is read and shown. */
interface Kind<T> {
  /** The value in `--help`: `<duration>`, or `[symbols:rate]` when it may be left out. */
  arg: string;
  /** Validates a typed value or text; throws an {@link OptionError} under `name`. */
  parse(v: unknown, name: string): T;
  /** A value as `--help` shows it, in the form the flag takes. */
  show(v: T): string;
}

/** One option: its flag (without `--`; also its variable and config-file spelling), help and kind. */
interface Spec<T> {
  flag: string;
  help: string;
  kind: Kind<T>;
  /** The default as `--help` says it, when it is not a fixed value. */
  defaultText?: string;
}

const MiB = 1024 * 1024;
/** Node's timers take at most 2^31 - 1 ms (≈ 24.8 days); a longer delay fires at once. */
const MAX_TIMER_MS = 24 * 86_400_000;

/** Every option, in the order `--help` lists them. */
const SPECS: { [K in keyof ServeOptions]: Spec<ServeOptions[K]> } = {
  data: { flag: "data", help: "data directory (WAL, store, snapshots)", kind: text("dir") },
  host: { flag: "host", help: "interface to listen on", kind: text("host") },
  port: { flag: "port", help: "port of feeds, ingest and HTTP; 0 picks a free one", kind: int(0, 65535) },
  workers: {
    flag: "workers",
    help: "subscriber worker threads",
    kind: int(1, 256),
    defaultText: "the CPU count",
  },
  demo: {
    flag: "demo",
    help: `run the synthetic market feed; a bare --demo is ${DEFAULT_DEMO.symbols}:${DEFAULT_DEMO.rate}`,
    kind: demo(),
  },
  delayMs: {
    flag: "delay",
    help: "hold-back of the delayed feed; 0 = none",
    kind: duration({ min: 0, zeroIsOff: true }),
  },
  fsync: {
    flag: "fsync",
    help: "WAL fsync policy: always | batch | os",
    kind: oneOf("policy", ["always", "batch", "os"] as const),
  },
  fsyncBatchMs: {
    flag: "fsync-batch",
    help: "longest wait before a batch fsync; 0 = sync without waiting for more",
    kind: duration({ min: 0, max: 60_000, zeroIsOff: true }),
  },
  walSegmentBytes: {
    flag: "wal-segment-bytes",
    help: "WAL segment size before it rolls",
    kind: bytes({ min: 64 * 1024, max: 2 ** 31 }),
  },
  ringBytes: {
    flag: "ring-bytes",
    help: "shared-memory ring capacity, a power of two",
    kind: bytes({ min: 64 * 1024, max: 2 ** 30, powerOfTwo: true }),
  },
  maxMessageBytes: {
    flag: "max-message-bytes",
    help: "largest WebSocket message accepted; larger closes the connection (1009)",
    kind: bytes({ min: 1024, max: 64 * MiB }),
  },
  ingestRate: {
    flag: "ingest-rate",
    help: "ingest messages/s per connection; 0 = unlimited",
    kind: int(0, 1e9),
  },
  backpressureBytes: {
    flag: "backpressure-bytes",
    help: "bytes buffered for a subscriber before the slow-consumer policy applies",
    kind: bytes({ min: 1024, max: 1024 * MiB }),
  },
  slowConsumer: {
    flag: "slow-consumer",
    help: "what happens to a subscriber over its backpressure limit: drop | conflate | disconnect",
    kind: oneOf("policy", ["drop", "conflate", "disconnect"] as const),
  },
  heartbeatMs: {
    flag: "heartbeat",
    help: "heartbeat interval on idle subscriptions",
    kind: duration({ min: 1, max: MAX_TIMER_MS }),
  },
  logLevel: {
    flag: "log-level",
    help: "fatal | error | warn | info | debug | trace | silent",
    kind: oneOf("level", ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const),
  },
  adminToken: {
    flag: "admin-token",
    help: "bearer token required by /v1/admin/* when auth is off",
    kind: optional(text("token"), "none: admin endpoints open on loopback"),
  },
  authSecretFile: {
    flag: "auth-secret-file",
    help: "file holding the HS256 secret tokens are signed with (turns auth on; re-read on SIGHUP)",
    kind: optional(text("file"), "none"),
  },
  authJwks: {
    flag: "auth-jwks",
    help: "file holding a JWKS of public keys tokens are signed with, RS256/ES256/EdDSA (turns auth on; re-read on SIGHUP)",
    kind: optional(text("file"), "none"),
  },
  insecure: {
    flag: "insecure",
    help: "serve beyond loopback without auth (anyone who reaches the port may publish and subscribe)",
    kind: onOff(),
  },
  allowedOrigins: {
    flag: "allowed-origins",
    help: "browser origins allowed to open WebSockets, e.g. https://app.example.com,https://b.example.com",
    kind: optional(origins(), "any origin on /v1/feed, none on /v1/ingest"),
  },
  retainWalMs: {
    flag: "retain-wal",
    help: "drop sealed WAL segments older than this once the store holds them, e.g. 2h",
    kind: optional(duration({ min: 0 }), "keep all"),
  },
  retainWalBytes: {
    flag: "retain-wal-bytes",
    help: "cap on WAL size, oldest segments the store holds dropped first, e.g. 512MiB",
    kind: optional(bytes({ min: 0 }), "no cap"),
  },
  retainStoreMs: {
    flag: "retain-store",
    help: "drop stored data older than this, e.g. 30d",
    kind: optional(duration({ min: 0 }), "keep all"),
  },
  retainStoreBytes: {
    flag: "retain-store-bytes",
    help: "cap on store size (LevelDB's estimate), oldest data dropped first, e.g. 512MiB",
    kind: optional(bytes({ min: 0 }), "no cap"),
  },
  snapshotEveryMs: {
    flag: "snapshot-every",
    help: "take an online snapshot into <data>/snapshots/ this often, e.g. 30m; 0 = never",
    kind: optional(duration({ min: 0, max: MAX_TIMER_MS, zeroIsOff: true }), "never"),
  },
  snapshotKeep: {
    flag: "snapshot-keep",
    help: "after each scheduled snapshot, keep only the newest n",
    kind: optional(int(1, 100_000), "keep all"),
  },
  transport: {
    flag: "transport",
    help: "WebSocket server: uws (native uWebSockets.js), ws (JavaScript, slower) or auto (uws when it loads)",
    kind: oneOf("transport", ["auto", "uws", "ws"] as const),
  },
  maxConnectionsPerIp: {
    flag: "max-connections-per-ip",
    help: "open WebSocket connections from one IP address, over all workers",
    kind: int(1, 1_000_000),
  },
  maxSubscriptions: {
    flag: "max-subscriptions",
    help: "subscriptions open on one connection",
    kind: int(1, 100_000),
  },
  maxSymbols: {
    flag: "max-symbols",
    help: "symbols over all subscriptions of one connection",
    kind: int(1, 10_000_000),
  },
  maxReplays: {
    flag: "max-replays",
    help: "historical replays running on one connection",
    kind: int(1, 10_000),
  },
  maxReplaysPerWorker: {
    flag: "max-replays-per-worker",
    help: "historical replays running in one worker (each holds a 1 MiB buffer and an open file)",
    kind: int(1, 100_000),
  },
  lastValueBytes: {
    flag: "last-value-bytes",
    help: "bytes of last values (the latest frame per symbol) kept, over all workers",
    kind: bytes({ min: 64 * 1024, max: 64 * 1024 * MiB }),
  },
  conflateBytes: {
    flag: "conflate-bytes",
    help: "bytes of frames held for conflating subscribers, over all workers",
    kind: bytes({ min: 64 * 1024, max: 64 * 1024 * MiB }),
  },
  sendBufferBytes: {
    flag: "send-buffer-bytes",
    help: "bytes all subscribers' sockets may hold unsent, over all workers (lowers each one's backpressure limit as connections add up)",
    kind: bytes({ min: MiB, max: 64 * 1024 * MiB }),
  },
  replicate: {
    flag: "replicate",
    help: "lead a replication group: append the log to this NATS JetStream, e.g. nats://127.0.0.1:4222",
    kind: optional(natsUrls(), "off"),
  },
  follow: {
    flag: "follow",
    help: "follow the log a leader replicates to this NATS JetStream: a read-only node",
    kind: optional(natsUrls(), "off"),
  },
  stream: {
    flag: "stream",
    help: "JetStream stream of the replicated log (with --replicate or --follow)",
    kind: streamName(),
  },
  streamReplicas: {
    flag: "stream-replicas",
    help: "copies JetStream keeps of the stream when the leader creates it: 1, 3 or 5",
    kind: intOf([1, 3, 5]),
  },
  ackAfter: {
    flag: "ack-after",
    help: "with --replicate, ack once a tick is durable here, or once the stream has it too: durable | replicated",
    kind: oneOf("when", ["durable", "replicated"] as const),
  },
  standby: {
    flag: "standby",
    help: "with --replicate, follow and lead only once the leader's lease lapses",
    kind: onOff(),
  },
  barIntervalsMs: {
    flag: "bars",
    help: "OHLCV bars computed from trades and sequenced as Bar frames, e.g. 1s,1m,5m; none = off",
    kind: barIntervals(),
  },
  barGraceMs: {
    flag: "bar-grace",
    help: "how long after its end a bar waits for late trades before it is emitted",
    kind: duration({ min: 0, max: 60_000, zeroIsOff: true }),
  },
};

const KEYS = Object.keys(SPECS) as (keyof ServeOptions)[];
const KEY_OF_FLAG = new Map(KEYS.map((k) => [SPECS[k].flag, k]));

/** The environment variable of a flag: `fsync-batch` → `TICKRING_FSYNC_BATCH`. */
function envName(flag: string): string {
  return `TICKRING_${flag.replace(/-/g, "_").toUpperCase()}`;
}

const KEY_OF_VARIABLE = new Map(KEYS.map((k) => [envName(SPECS[k].flag), k]));

/** A command-line flag of `tickring serve`, for the CLI to declare. */
export interface ServeFlag {
  /** The flag's name without `--`, the key of {@link CliSources.flags}. */
  flag: string;
  /** `--delay <duration>`. */
  usage: string;
  /** Help text with the default and the environment variable. */
  description: string;
}

/** Every option as a flag of `tickring serve`, in `--help` order, then `--config`. */
export function serveFlags(): ServeFlag[] {
  const defaults = defaultServeOptions();
  const flags = KEYS.map((k) => {
    const s = SPECS[k] as Spec<unknown>;
    const shown = s.defaultText ?? s.kind.show(defaults[k]);
    return {
      flag: s.flag,
      usage: s.kind.arg === "" ? `--${s.flag}` : `--${s.flag} ${s.kind.arg}`,
      description: `${s.help} (default: ${shown}; env: ${envName(s.flag)})`,
    };
  });
  flags.push({
    flag: "config",
    usage: "--config <file>",
    description:
      "JSON file of options, keyed by flag name (delay, fsync-batch: values as on the command line) " +
      `or option key (delayMs: a number is ms) (env: ${CONFIG_VARIABLE})`,
  });
  return flags;
}

/** Where {@link resolveCliServeOptions} reads options. */
export interface CliSources {
  /** Flags given, by name without `--` (`delay`, `fsync-batch`, `config`): text, or `true` for a bare flag. */
  flags?: Record<string, string | boolean | undefined>;
  /** The environment (`process.env`): `TICKRING_<FLAG>` variables. */
  env?: NodeJS.ProcessEnv;
}

/** One value for one option, with the name the user wrote it under. */
interface Entry {
  key: keyof ServeOptions;
  value: unknown;
  name: string;
}

/**
 * The options of the embedding API: typed values (a number in its key's unit), merged over the defaults
 * and validated. Reads no environment and no file. Throws {@link OptionError} naming the key.
 */
export function resolveServeOptions(options: Partial<ServeOptions> = {}): ServeOptions {
  const entries = Object.entries(options).map(([key, value]) => {
    if (!Object.hasOwn(SPECS, key)) throw new OptionError(key, `unknown option${didYouMean(key, KEYS)}`);
    return { key: key as keyof ServeOptions, value, name: key };
  });
  return merge([entries]);
}

/**
 * The options of `tickring serve`: flags over the environment over the config file (`--config` or
 * `TICKRING_CONFIG`) over the defaults, each value validated under the name the user wrote. Refuses
 * unknown `TICKRING_` variables. Throws {@link OptionError}.
 */
export function resolveCliServeOptions({ flags = {}, env = {} }: CliSources): ServeOptions {
  const layers: Entry[][] = [];
  const config = flags.config ?? env[CONFIG_VARIABLE];
  if (config !== undefined) {
    const name = flags.config !== undefined ? "--config" : CONFIG_VARIABLE;
    layers.push(configEntries(textOf(config, name), name));
  }
  layers.push(envEntries(env));
  const given = Object.entries(flags).filter(([flag, v]) => flag !== "config" && v !== undefined);
  layers.push(
    given.map(([flag, value]) => {
      const key = KEY_OF_FLAG.get(flag);
      if (key === undefined) throw new OptionError(`--${flag}`, "unknown option");
      return { key, value, name: `--${flag}` };
    }),
  );
  return merge(layers);
}

/**
 * Defaults, then each layer in turn (later ones win), every value through its option's parser; then the
 * rules between options ({@link checkExposure}, {@link checkReplication}).
 */
function merge(layers: Entry[][]): ServeOptions {
  const out = defaultServeOptions() as unknown as Record<string, unknown>;
  const written = new Map<keyof ServeOptions, string>();
  for (const layer of layers) {
    for (const { key, value, name } of layer) {
      if (value === undefined) continue;
      out[key] = (SPECS[key] as Spec<unknown>).kind.parse(value, name);
      written.set(key, name);
    }
  }
  const o = out as unknown as ServeOptions;
  checkExposure(o, written);
  checkReplication(o, written);
  return o;
}

/** Whether `host` binds only loopback (then only local users can reach the port). */
export function isLoopbackHost(host: string): boolean {
  return host === "localhost" || host === "::1" || /^(::ffff:)?127\./i.test(host);
}

/** Whether tokens are verified: a secret or public keys were given. */
export function authOn(o: ServeOptions): boolean {
  return o.authSecretFile !== undefined || o.authJwks !== undefined;
}

/**
 * Safe defaults: without auth the daemon serves only loopback, unless `--insecure` says to serve beyond it
 * anyway; with auth on, `--admin-token` has no use (the token's `admin` claim decides) and is refused
 * rather than ignored. Throws naming the option as written.
 */
function checkExposure(o: ServeOptions, written: Map<keyof ServeOptions, string>): void {
  const name = (k: keyof ServeOptions) => written.get(k) ?? `--${SPECS[k].flag}`;
  if (!authOn(o) && !o.insecure && !isLoopbackHost(o.host)) {
    throw new OptionError(
      name("host"),
      `${o.host} is reachable beyond this machine and auth is off: give --auth-secret-file or --auth-jwks ` +
        "(tickring token create mints tokens), or --insecure to serve without authentication",
    );
  }
  if (authOn(o) && o.adminToken !== undefined) {
    throw new OptionError(
      name("adminToken"),
      'not used when auth is on (--auth-secret-file, --auth-jwks): give admin tokens the claim "admin": true',
    );
  }
}

/**
 * The replication options make sense together only: a node leads (`replicate`) or follows (`follow`);
 * the stream's name goes with either, the rest with leading only; a follower runs no demo feed. An option
 * counts as given when it differs from its default (the embedding API passes every key). Throws naming
 * the option as written.
 */
function checkReplication(o: ServeOptions, written: Map<keyof ServeOptions, string>): void {
  const name = (k: keyof ServeOptions) => written.get(k) ?? k;
  const defaults = defaultServeOptions();
  const given = (k: keyof ServeOptions) => o[k] !== defaults[k];
  if (o.replicate !== undefined && o.follow !== undefined) {
    throw new OptionError(name("follow"), `cannot go with ${name("replicate")}: a node leads or follows`);
  }
  const leaderOnly: (keyof ServeOptions)[] = ["streamReplicas", "ackAfter", "standby"];
  for (const k of ["stream", ...leaderOnly] as const) {
    if (given(k) && o.replicate === undefined && o.follow === undefined) {
      throw new OptionError(name(k), "needs --replicate (or --follow for --stream)");
    }
  }
  if (o.follow === undefined) return;
  for (const k of leaderOnly) {
    if (given(k)) throw new OptionError(name(k), `is for a leader (--replicate), not with ${name("follow")}`);
  }
  if (o.demo !== false) {
    throw new OptionError(
      name("demo"),
      `a follower (${name("follow")}) takes no ingest: run the demo on the leader`,
    );
  }
}

function envEntries(env: NodeJS.ProcessEnv): Entry[] {
  const entries: Entry[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith("TICKRING_") || name === CONFIG_VARIABLE || Object.hasOwn(OTHER_VARIABLES, name))
      continue;
    const key = KEY_OF_VARIABLE.get(name);
    if (key === undefined) {
      throw new OptionError(
        name,
        `not a tickring variable${didYouMean(name, [...KEY_OF_VARIABLE.keys(), CONFIG_VARIABLE])}`,
      );
    }
    entries.push({ key, value, name });
  }
  return entries;
}

/** A config file's options: each under its option key (typed) or its flag name (as on the command line). */
function configEntries(path: string, option: string): Entry[] {
  const file = readConfigFile(path, option);
  const entries: Entry[] = [];
  const seen = new Map<keyof ServeOptions, string>();
  for (const [written, raw] of Object.entries(file)) {
    // JSON has no comments: a key starting with "//" is one (examples/tickring.config.json).
    if (written.startsWith("//")) continue;
    const name = `${path}: ${written}`;
    const byFlag = !Object.hasOwn(SPECS, written) ? KEY_OF_FLAG.get(written) : undefined;
    const key = byFlag ?? (Object.hasOwn(SPECS, written) ? (written as keyof ServeOptions) : undefined);
    if (key === undefined) {
      const spellings = KEYS.flatMap((k) => [k, SPECS[k].flag]);
      throw new OptionError(name, `unknown option${didYouMean(written, spellings)}`);
    }
    const other = seen.get(key);
    if (other !== undefined) throw new OptionError(name, `the same option as ${JSON.stringify(other)}`);
    seen.set(key, written);
    // Under a flag name a value means what it means on the command line: `"delay": 900000` has no unit.
    entries.push({ key, value: byFlag !== undefined && typeof raw === "number" ? String(raw) : raw, name });
  }
  return entries;
}

function readConfigFile(path: string, option: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new OptionError(option, `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new OptionError(option, `${path} is not JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new OptionError(option, `${path} must hold a JSON object of options`);
  }
  return parsed as Record<string, unknown>;
}

/** ` (did you mean X?)` when one of `known` is a likely misspelling of `name`, else nothing. */
function didYouMean(name: string, known: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = 4; // more edits than this is a different word, not a typo
  for (const k of known) {
    const d = leven(name.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best === undefined ? "" : ` (did you mean ${best}?)`;
}

function textOf(v: unknown, name: string): string {
  if (typeof v !== "string" || v.length === 0) throw new OptionError(name, `expected text, got ${show(v)}`);
  return v;
}

function text(arg: string): Kind<string> {
  return { arg: `<${arg}>`, parse: textOf, show: (v) => v };
}

/** An integer; text must be digits only (no `1e3`, no `0x10`). */
function int(min: number, max: number): Kind<number> {
  return {
    arg: "<n>",
    parse: (v, name) => {
      const x = typeof v === "string" && /^\s*\d+\s*$/.test(v) ? Number(v) : v;
      if (typeof x !== "number" || !Number.isInteger(x) || x < min || x > max) {
        throw new OptionError(name, `expected an integer from ${min} to ${max}, got ${show(v)}`);
      }
      return x;
    },
    show: String,
  };
}

/** A byte size: a number of bytes, or text with or without a unit (`512MiB`, `1GB`, `65536`). */
function bytes(o: { min: number; max?: number; powerOfTwo?: boolean }): Kind<number> {
  const max = o.max ?? Number.MAX_SAFE_INTEGER;
  const range =
    o.max === undefined
      ? "a size in bytes"
      : `a size from ${formatByteSize(o.min)} to ${formatByteSize(max)}`;
  return {
    arg: "<bytes>",
    parse: (v, name) => {
      const x = typeof v === "string" ? parseByteSize(v) : v;
      if (typeof x !== "number" || !Number.isSafeInteger(x) || x < o.min || x > max) {
        throw new OptionError(name, `expected ${range}, like 65536, 512KiB, 64MiB or 1GB, got ${show(v)}`);
      }
      if (o.powerOfTwo === true && (x & (x - 1)) !== 0) {
        throw new OptionError(name, `must be a power of two, got ${show(v)}`);
      }
      return x;
    },
    show: formatByteSize,
  };
}

/**
 * A duration: a whole number of ms (typed values only), or text with a unit. A unit-less `"0"` is accepted
 * only where 0 turns the feature off; elsewhere a bare number is refused, never guessed at.
 */
function duration(o: { min: number; max?: number; zeroIsOff?: boolean }): Kind<number> {
  const max = o.max ?? Number.MAX_SAFE_INTEGER;
  return {
    arg: "<duration>",
    parse: (v, name) => {
      let ms = v;
      if (typeof v === "string") {
        const bare = /^\s*\d+(\.\d+)?\s*$/.test(v);
        if (bare && !(o.zeroIsOff === true && Number(v) === 0)) {
          const units = DURATION_UNITS.join(", ");
          throw new OptionError(name, `${show(v)} has no unit: give one of ${units}, e.g. ${v.trim()}s`);
        }
        ms = bare ? 0 : parseDuration(v);
      }
      if (typeof ms !== "number" || !Number.isSafeInteger(ms)) {
        throw new OptionError(name, `expected a duration like 500ms, 2s, 15m or 1h, got ${show(v)}`);
      }
      if (ms < o.min || ms > max) {
        const bound = ms < o.min ? `at least ${formatDuration(o.min)}` : `at most ${formatDuration(max)}`;
        throw new OptionError(name, `must be ${bound}, got ${show(v)}`);
      }
      return ms;
    },
    show: (ms) => (ms === 0 && o.zeroIsOff === true ? "0" : formatDuration(ms)),
  };
}

/** Bar intervals: `none`, or a comma-separated list (`1s,1m`), or an array of ms; each a whole second. */
function barIntervals(): Kind<number[]> {
  return {
    arg: "<intervals>",
    parse: (v, name) => {
      if (v === "none") return [];
      const items: unknown[] =
        typeof v === "string" ? v.split(",").map((s) => s.trim()) : Array.isArray(v) ? v : [v];
      const ms = items.map((item) => {
        const x = typeof item === "string" ? parseBarInterval(item) : item;
        if (typeof x !== "number" || parseBarInterval(`${x}ms`) === undefined) {
          throw new OptionError(
            name,
            `expected none or intervals each ${BAR_INTERVAL_RULE}, got ${show(item)}`,
          );
        }
        return x;
      });
      return [...new Set(ms)].sort((a, b) => a - b);
    },
    show: (v) => (v.length === 0 ? "none" : v.map(formatDuration).join(",")),
  };
}

function oneOf<T extends string>(arg: string, allowed: readonly T[]): Kind<T> {
  return {
    arg: `<${arg}>`,
    parse: (v, name) => {
      if (typeof v !== "string" || !(allowed as readonly string[]).includes(v)) {
        throw new OptionError(name, `expected one of ${allowed.join(", ")}, got ${show(v)}`);
      }
      return v as T;
    },
    show: (v) => v,
  };
}

/** A list of NATS server URLs, comma-separated: `nats://host:port[,nats://host:port…]`. */
function natsUrls(): Kind<string> {
  return {
    arg: "<nats://host:port>",
    parse: (v, name) => {
      const t = textOf(v, name).trim();
      for (const url of t.split(",")) {
        if (!/^nats:\/\/[^\s/,:@]+:\d{1,5}$/.test(url.trim())) {
          throw new OptionError(
            name,
            `expected nats://host:port (comma-separated for a cluster), got ${show(v)}`,
          );
        }
      }
      return t;
    },
    show: (v) => v,
  };
}

/** A JetStream stream name that also makes a KV bucket name: letters, digits, `-` and `_`. */
function streamName(): Kind<string> {
  return {
    arg: "<name>",
    parse: (v, name) => {
      const t = textOf(v, name);
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(t)) {
        throw new OptionError(name, `expected 1 to 64 letters, digits, - or _, got ${show(v)}`);
      }
      return t;
    },
    show: (v) => v,
  };
}

/** One of a few integers. */
function intOf(allowed: readonly number[]): Kind<number> {
  const any = int(Math.min(...allowed), Math.max(...allowed));
  return {
    arg: "<n>",
    parse: (v, name) => {
      const x = any.parse(v, name);
      if (!allowed.includes(x))
        throw new OptionError(name, `expected one of ${allowed.join(", ")}, got ${show(v)}`);
      return x;
    },
    show: String,
  };
}

/** A switch: a bare flag is true; text must be true or false (1 or 0, as environment variables often say). */
function onOff(): Kind<boolean> {
  return {
    arg: "",
    parse: (v, name) => {
      if (v === true || v === "true" || v === "1" || v === "") return true;
      if (v === false || v === "false" || v === "0") return false;
      throw new OptionError(name, `expected true or false, got ${show(v)}`);
    },
    show: (v) => (v ? "on" : "off"),
  };
}

/** Web origins (`https://app.example.com:8443`): a list, or text separated by commas. */
function origins(): Kind<string[]> {
  return {
    arg: "<origins>",
    parse: (v, name) => {
      const list = typeof v === "string" ? v.split(",").map((x) => x.trim()) : v;
      if (!Array.isArray(list) || list.length === 0)
        throw new OptionError(name, `expected origins, got ${show(v)}`);
      return list.map((x: unknown) => {
        let origin: string | undefined;
        try {
          origin = typeof x === "string" ? new URL(x).origin : undefined;
        } catch {
          origin = undefined;
        }
        if (origin === undefined || origin === "null" || origin !== x) {
          throw new OptionError(
            name,
            `expected an origin like https://app.example.com (no path), got ${show(x)}`,
          );
        }
        return origin;
      });
    },
    show: (v) => v.join(","),
  };
}

/** An option that is unset by default; `unset` is what `--help` says then. */
function optional<T>(kind: Kind<T>, unset: string): Kind<T | undefined> {
  return {
    arg: kind.arg,
    parse: (v, name) => (v === undefined ? undefined : kind.parse(v, name)),
    show: (v) => (v === undefined ? unset : kind.show(v)),
  };
}

/** `true`/`""` = defaults, `false` = off, `"symbols:rate"` or `{symbols, rate}`. */
function demo(): Kind<DemoOptions | false> {
  const symbols = int(1, 100_000);
  const rate = int(1, 10_000_000);
  return {
    arg: "[symbols:rate]",
    parse: (v, name) => {
      if (v === false || v === "false") return false;
      if (v === true || v === "" || v === "true") return { ...DEFAULT_DEMO };
      if (typeof v === "string") {
        const m = /^(\d+):(\d+)$/.exec(v);
        if (m === null) throw new OptionError(name, `expected symbols:rate like 50:10000, got ${show(v)}`);
        return { symbols: symbols.parse(m[1], `${name} symbols`), rate: rate.parse(m[2], `${name} rate`) };
      }
      if (typeof v === "object" && v !== null) {
        const o = v as Record<string, unknown>;
        return {
          symbols: symbols.parse(o.symbols ?? DEFAULT_DEMO.symbols, `${name}.symbols`),
          rate: rate.parse(o.rate ?? DEFAULT_DEMO.rate, `${name}.rate`),
        };
      }
      throw new OptionError(name, `expected true, false or symbols:rate, got ${show(v)}`);
    },
    show: (v) => (v === false ? "off" : `${v.symbols}:${v.rate}`),
  };
}

function show(v: unknown): string {
  return typeof v === "string" ? JSON.stringify(v) : String(v);
}
