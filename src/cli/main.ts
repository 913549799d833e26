#!/usr/bin/env node
/**
 * The `tickring` command. Every error ends it the same way: one line, `tickring: <message>`, and the exit
 * status of the one error model ({@link exitCodeOf}: 2 for misuse such as a bad flag, 1 for a failure).
 * `--help` on every command.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Command, CommanderError, Option } from "commander";
import { authOn, resolveCliServeOptions, serveFlags } from "../config/options.js";
import { Tickring } from "../daemon/tickring.js";
import { exitCodeOf } from "../errors.js";
import { registerBenchCommand } from "./bench-command.js";
import { registerExportCommand } from "./export-command.js";
import { registerImportCommand } from "./import-command.js";
import { registerReplayCommand } from "./replay-command.js";
import { registerSnapshotCommands } from "./snapshot-command.js";
import { registerTokenCommand } from "./token-command.js";
import { registerWalCommands } from "./wal-command.js";

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
  .enablePositionalOptions()
  .configureOutput({ outputError: (text) => fail(text.replace(/^error: /, "")) })
  .addHelpText(
    "after",
    "\nExit status: 0 done, 1 failed, 2 bad arguments (one line on stderr says which).\n" +
      "tickring <command> --help lists a command's flags.",
  );

const serve = program
  .command("serve")
  .description("run the daemon")
  .addHelpText(
    "after",
    "\nEvery flag is also an environment variable, TICKRING_ and its name (--fsync-batch: " +
      "TICKRING_FSYNC_BATCH), and a key of the --config file. Flags win over the environment, which wins " +
      "over the file.\nDurations carry a unit: ms, s, m, h, d (2s, 15m, 1.5h); a unit-less 0 only where " +
      "0 means none or never.\nSizes are bytes, or carry a unit: KiB, MiB, GiB, TiB or KB, MB, GB, TB " +
      "(512MiB, 1GB).",
  );
/** Flag name (`fsync-batch`) → commander's attribute for it (`fsyncBatch`). */
const attributes = serveFlags().map(({ flag, usage, description }) => {
  const option = new Option(usage, description);
  serve.addOption(option);
  return [flag, option.attributeName()] as const;
});
serve.action(async (given: Record<string, string | boolean | undefined>) => {
  const flags = Object.fromEntries(attributes.map(([flag, attribute]) => [flag, given[attribute]]));
  // Signals are taken before the daemon starts: one that arrives while it starts (a supervisor stopping it
  // as soon as it said it serves) stops it cleanly once started, instead of killing it by default.
  const started: { daemon?: Tickring; signalled?: string } = {};
  let stopping = false;
  const stop = (signal: string) => {
    const daemon = started.daemon;
    if (daemon === undefined) {
      started.signalled ??= signal;
      return;
    }
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
  const options = resolveCliServeOptions({ flags, env: process.env });
  // With auth on, SIGHUP re-reads the keys; one while the daemon starts is moot (it reads them as it starts).
  if (authOn(options)) process.on("SIGHUP", () => started.daemon?.reloadAuthKeys());
  started.daemon = await Tickring.start(options);
  if (started.signalled !== undefined) stop(started.signalled);
  // It went down on its own (a replication node that could not start again): exit as a failure.
  void started.daemon.failure.then(() => process.exit(1));
});

registerReplayCommand(program);

registerBenchCommand(program);

registerSnapshotCommands(program);

registerTokenCommand(program);

registerWalCommands(program);

registerImportCommand(program);

registerExportCommand(program);

/** Writes the one line an error gets: commander's own (a suggestion folded in) or the error's message. */
function fail(message: string): void {
  process.stderr.write(`tickring: ${message.trim().replace(/\s*\n\s*/g, " ")}\n`);
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // Commander has printed its message (or the help, or the version) by now.
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
  fail(err instanceof Error ? err.message : String(err));
  process.exit(exitCodeOf(err));
}
