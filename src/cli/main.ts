#!/usr/bin/env node
/**
 * The `tickring` command. Bad arguments exit 2 with one line naming the problem; `--help` on every command.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Command, CommanderError, Option } from "commander";
import { OPTION_KEYS, resolveServeOptions, type ServeOptions } from "../config/options.js";
import { Tickring } from "../daemon/tickring.js";
import { OptionError } from "../errors.js";
import { registerBenchCommand } from "./bench-command.js";
import { registerReplayCommand } from "./replay-command.js";
import { registerSnapshotCommands } from "./snapshot-command.js";

const here = dirname(fileURLToPath(import.meta.url));
const packageJson = JSON.parse(readFileSync(join(here, "../../../package.json"), "utf8")) as {
  version: string;
};

const program = new Command("tickring")
  .description(
    "Market-data distribution daemon: WAL + LevelDB storage, shared-memory rings, uWebSockets feeds",
  )
  .version(packageJson.version)
  .exitOverride()
  .showSuggestionAfterError(false)
  .configureOutput({ outputError: (text, write) => write(`${text.split("\n")[0]}\n`) });

/** CLI flag → option key; every flag is validated by resolveServeOptions, like the config file and env. */
const SERVE_FLAGS: [string, keyof ServeOptions, string][] = [
  ["--data <dir>", "data", "data directory (WAL, store, snapshots) (default: ./data)"],
  ["--host <host>", "host", "interface to listen on (default: 127.0.0.1)"],
  ["--port <port>", "port", "port of feeds, ingest and HTTP; 0 picks a free one (default: 9420)"],
  ["--workers <n>", "workers", "subscriber worker threads (default: CPU count)"],
  ["--delay <duration>", "delayMs", "hold-back of the delayed feed, e.g. 15m (default: 15m)"],
  ["--fsync <policy>", "fsync", "WAL fsync policy: always | batch | os (default: batch)"],
  ["--fsync-batch <duration>", "fsyncBatchMs", "longest wait before a batch fsync (default: 2ms)"],
  ["--wal-segment-bytes <n>", "walSegmentBytes", "WAL segment size (default: 67108864)"],
  ["--ring-bytes <n>", "ringBytes", "shared-memory ring capacity, a power of two (default: 67108864)"],
  ["--max-message-bytes <n>", "maxMessageBytes", "largest WebSocket message accepted (default: 1048576)"],
  ["--ingest-rate <n>", "ingestRate", "ingest messages/s per connection, 0 = unlimited (default: 0)"],
  [
    "--backpressure-bytes <n>",
    "backpressureBytes",
    "per-subscriber buffer before the slow-consumer policy applies (default: 1048576)",
  ],
  ["--slow-consumer <policy>", "slowConsumer", "drop | conflate | disconnect (default: drop)"],
  ["--heartbeat <duration>", "heartbeatMs", "heartbeat interval on idle subscriptions (default: 1s)"],
  ["--log-level <level>", "logLevel", "fatal | error | warn | info | debug | trace | silent (default: info)"],
  ["--admin-token <token>", "adminToken", "bearer token required by /v1/admin/* (default: none)"],
  [
    "--retain-wal <duration>",
    "retainWalMs",
    "drop WAL segments older than this once indexed, e.g. 2h (default: keep)",
  ],
  [
    "--retain-wal-bytes <n>",
    "retainWalBytes",
    "cap on WAL size, oldest indexed segments dropped first (default: none)",
  ],
  [
    "--retain-store <duration>",
    "retainStoreMs",
    "drop stored data older than this, e.g. 30d (default: keep)",
  ],
  [
    "--retain-store-bytes <n>",
    "retainStoreBytes",
    "cap on store size, oldest data dropped first (default: none)",
  ],
  [
    "--snapshot-every <duration>",
    "snapshotEveryMs",
    "take an online snapshot this often, e.g. 30m (default: never)",
  ],
  ["--snapshot-keep <n>", "snapshotKeep", "keep only the newest n scheduled snapshots (default: all)"],
];

const serve = program
  .command("serve")
  .description("run the daemon (environment: TICKRING_<OPTION>, e.g. TICKRING_PORT=9500)")
  .option("--config <file>", "JSON file of options (same names as below, camelCase: delayMs, fsync, …)")
  .addOption(new Option("--demo [symbols:rate]", "run the synthetic market feed (default: 50:10000)"))
  .action(async (flags: Record<string, unknown>) => {
    const explicit: Partial<Record<keyof ServeOptions, unknown>> = {};
    for (const [, key] of SERVE_FLAGS)
      if (flags[flagName(key)] !== undefined) explicit[key] = flags[flagName(key)];
    if (flags.demo !== undefined) explicit.demo = flags.demo;
    const options = resolveServeOptions(explicit, process.env, flags.config as string | undefined);
    const daemon = await Tickring.start(options);
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        daemon.log.warn({ signal }, "second signal: exiting without a clean shutdown");
        process.exit(1);
      }
      stopping = true;
      daemon.log.info({ signal }, "shutting down");
      daemon.close().then(
        () => process.exit(0),
        (err) => {
          daemon.log.error({ err }, "shutdown failed");
          process.exit(1);
        },
      );
    };
    process.on("SIGINT", () => stop("SIGINT"));
    process.on("SIGTERM", () => stop("SIGTERM"));
  });
for (const [flag, , help] of SERVE_FLAGS) serve.option(flag, help);

registerReplayCommand(program);

registerBenchCommand(program);

registerSnapshotCommands(program);

function flagName(key: keyof ServeOptions): string {
  // Commander camel-cases flags: --fsync-batch → fsyncBatch; our keys for durations end in Ms.
  const flag = SERVE_FLAGS.find(([, k]) => k === key)![0]
    .split(" ")[0]
    .slice(2);
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

// Every option key must be reachable from the CLI (or be --demo/--config).
if (OPTION_KEYS.some((k) => k !== "demo" && !SERVE_FLAGS.some(([, key]) => key === k))) {
  throw new Error("a ServeOptions key has no CLI flag");
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exit(err.exitCode === 0 ? 0 : 2);
  }
  if (err instanceof OptionError) {
    process.stderr.write(`tickring: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`tickring: ${(err as Error).message}\n`);
  process.exit(1);
}
