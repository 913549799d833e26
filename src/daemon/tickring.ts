/**
 * The embedding API: `const t = await Tickring.start({ data, port: 0 }); await t.ingest(ticks)`. A thin
 * facade over the composition root ({@link Daemon}): options go through the same validation as the CLI's,
 * ticks through the same validation as the wire's. When the daemon asks to start again (a replication node
 * that stepped down with seqs the stream lacks), the facade stops it and starts another on the same port.
 */
import { resolveServeOptions, type ServeOptions } from "../config/options.js";
import { TickringError } from "../errors.js";
import type { Tick } from "../frame/codec.js";
import { createLogger, type Logger } from "../logger.js";
import { validateTicks } from "../publisher/ingest/tick-rules.js";
import { Daemon } from "./daemon.js";

export class Tickring {
  private closing: Promise<void> | undefined;
  private restarting: Promise<void> | undefined;
  private down = false;
  private failedWith: (err: unknown) => void = () => {};
  /** Resolves with the error when tickring went down for good on its own (a restart that failed). */
  readonly failure = new Promise<unknown>((resolve) => (this.failedWith = resolve));

  private constructor(private daemon: Daemon) {
    this.own(daemon);
  }

  /**
   * Opens the data directory, recovers the WAL, starts the workers and (if asked) the demo feed.
   * `options` go through the same validation as the CLI's.
   */
  static async start(options: Partial<ServeOptions> = {}, log?: Logger): Promise<Tickring> {
    const opts = resolveServeOptions(options);
    return new Tickring(await Daemon.start(opts, log ?? createLogger(opts.logLevel)));
  }

  /** The options in force. */
  get options(): ServeOptions {
    return this.daemon.options;
  }

  /** The daemon's logger. */
  get log(): Logger {
    return this.daemon.log;
  }

  /** The port the feeds, ingest and HTTP listen on (the real one when 0 was asked). */
  get port(): number {
    return this.daemon.pool.port;
  }

  /** Highest seq assigned. */
  get lastSeq(): number {
    return this.daemon.sequencer.lastSeq;
  }

  /** Highest seq durable under the fsync policy. */
  get durableSeq(): number {
    return this.daemon.wal.durableSeq;
  }

  /**
   * Sequences ticks from this process (camelCase fields: `{ type: "trade", symbol, price, size, tsEvent }`);
   * resolves with the last seq once it is durable. Rejects with a TickringError: `BAD_TICK` for a tick the
   * wire would refuse, `NOT_READY` once closing, `DISK_FULL`/`IO_ERROR` when the WAL cannot write.
   */
  ingest(ticks: readonly Tick[]): Promise<number> {
    if (this.closing !== undefined)
      return Promise.reject(new TickringError("NOT_READY", "tickring is closing"));
    if (this.restarting !== undefined || this.down)
      return Promise.reject(new TickringError("NOT_READY", "tickring is restarting"));
    try {
      validateTicks(ticks);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.daemon.writer.sequenceTicks(ticks);
  }

  /**
   * Re-reads the `--auth-secret-file` and `--auth-jwks` files (what SIGHUP does): tokens presented from
   * now on are verified with the new keys; open connections keep theirs. A file that cannot be used is
   * logged and the keys in force stay. While a replication node's daemon starts again, the one that
   * started re-reads them once it serves (the files may have changed after its start read them).
   */
  reloadAuthKeys(): void {
    if (this.restarting === undefined) this.daemon.reloadAuthKeys();
    else void this.restarting.then(() => this.daemon.reloadAuthKeys());
  }

  /** Readings of `/v1/stats`. */
  stats(): Promise<Record<string, unknown>> {
    return this.daemon.stats();
  }

  /**
   * Stops the demo feed and the workers (clients get a 1001 close frame), makes everything appended
   * durable, and closes the WAL. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.restarting;
      if (!this.down) await this.daemon.stop();
    })();
    return this.closing;
  }

  private own(d: Daemon): void {
    d.onRestart = () => {
      if (this.closing !== undefined || this.restarting !== undefined) return;
      this.restarting = this.restart(d).finally(() => {
        this.restarting = undefined;
      });
    };
  }

  private async restart(old: Daemon): Promise<void> {
    await old.stop();
    try {
      this.daemon = await Daemon.start({ ...old.options, port: old.pool.port }, old.log);
      this.own(this.daemon);
    } catch (err) {
      this.down = true;
      old.log.fatal({ err }, "tickring could not start again: it is down");
      this.failedWith(err);
    }
  }
}
