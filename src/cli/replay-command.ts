/**
 * `tickring replay`: a client of the historical feed (built on tickring/client) that prints frames as
 * JSON lines (`--json`) or one readable line each, with a progress line on stderr for bounded replays.
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import {
  ClientError,
  describeFailure,
  type Position,
  type SubscribeOptions,
  TickringClient,
  type TokenSource,
} from "../client/index.js";
import { exitCodeOf, isErrorCode, OptionError, TickringError } from "../errors.js";
import { frameToObject } from "../frame/json.js";

const DEFAULT_RECONNECT_ATTEMPTS = 10;

export function registerReplayCommand(program: Command): void {
  program
    .command("replay")
    .description("replay history from a running daemon and print it (then follow live with --live)")
    .requiredOption("--url <url>", "daemon URL, e.g. ws://127.0.0.1:9420")
    .option("--symbols <list>", "comma-separated symbols, or * for all", "*")
    .requiredOption("--from <seq|time>", "first seq (e.g. 1) or time (e.g. 2026-11-23T09:30:00Z)")
    .option(
      "--to <seq|time>",
      "last seq or time, inclusive, not before --from (default: the newest at start)",
    )
    .option("--speed <max|N>", "max, or a factor of the original timing (1 = as it happened)", "max")
    .option("--live", "continue with the real-time feed after the history, with no gap")
    .option(
      "--reconnect-attempts <n>",
      `reconnect attempts in a row after a lost connection before giving up (default: ${DEFAULT_RECONNECT_ATTEMPTS})`,
    )
    .option("--json", "print each frame as one JSON line")
    .option(
      "--token <token>",
      "token of a daemon with auth on (visible to other users in ps: prefer --token-file)",
    )
    .option(
      "--token-file <file>",
      "file holding the token, read again for each connection and before the token expires (so a long --live replay can be kept going by rewriting the file)",
    )
    .action(async (flags: Record<string, string | boolean | undefined>) => {
      const request = replayRequest(flags);
      const token = tokenOf(flags);
      const maxAttempts =
        flags.reconnectAttempts === undefined
          ? DEFAULT_RECONNECT_ATTEMPTS
          : count(String(flags.reconnectAttempts), "--reconnect-attempts");
      try {
        await replay(String(flags.url), request, maxAttempts, flags.json === true, token);
      } catch (err) {
        if (!(err instanceof ClientError)) throw err;
        fail(err);
      }
    });
}

/** `--token`, or a callback reading `--token-file` (checked once now: a missing file fails at once). */
function tokenOf(flags: Record<string, string | boolean | undefined>): TokenSource | undefined {
  if (flags.token !== undefined && flags.tokenFile !== undefined) {
    throw new OptionError("--token", "give --token or --token-file, not both");
  }
  if (flags.tokenFile === undefined) return flags.token === undefined ? undefined : String(flags.token);
  const path = String(flags.tokenFile);
  const read = (): string => {
    try {
      return readFileSync(path, "utf8").trim();
    } catch (err) {
      throw new OptionError(
        "--token-file",
        `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? err}`,
      );
    }
  };
  read();
  return read;
}

/** The subscription the flags ask for; throws an OptionError (exit 2) naming a bad flag. */
function replayRequest(flags: Record<string, string | boolean | undefined>): SubscribeOptions {
  const from = position(String(flags.from), "--from");
  const to = flags.to === undefined ? undefined : position(String(flags.to), "--to");
  if (flags.live === true && to !== undefined)
    throw new OptionError("--live", "cannot be combined with --to");
  if (to !== undefined && before(to, from))
    throw new OptionError("--to", `${String(flags.to)} is before --from ${String(flags.from)}`);
  const speed = flags.speed === "max" ? "max" : Number(flags.speed);
  if (speed !== "max" && !(speed > 0))
    throw new OptionError("--speed", `expected max or a positive number, got ${flags.speed}`);
  const symbols =
    flags.symbols === "*"
      ? "*"
      : String(flags.symbols)
          .split(",")
          .filter((s) => s !== "");
  return { symbols, feed: "historical", from, to, speed, live: flags.live === true };
}

/** Prints the replay until it is done; rejects with the ClientError that ended it. */
async function replay(
  url: string,
  request: SubscribeOptions,
  maxAttempts: number,
  json: boolean,
  token: TokenSource | undefined,
): Promise<void> {
  const from = request.from!;
  const to = request.to;
  const progress = process.stderr.isTTY && "seq" in from && to !== undefined && "seq" in to;
  const span = progress ? (to as { seq: number }).seq - (from as { seq: number }).seq + 1 : 0;
  // `tickring replay … | head` closes our stdout: that is the reader saying it has enough.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(0);
    throw err;
  });
  let printed = 0;
  const client = new TickringClient({ url, token, reconnect: { initialMs: 100, maxMs: 2000, maxAttempts } });
  try {
    await new Promise<void>((resolve, reject) => {
      client
        .subscribe(request, {
          frame: (frame, seq) => {
            const o = frameToObject(frame);
            process.stdout.write(json ? `${JSON.stringify(o)}\n` : `${line(o)}\n`);
            printed++;
            if (progress && printed % 1000 === 0) {
              const done = seq - (from as { seq: number }).seq + 1;
              process.stderr.write(
                `\rreplay: seq ${seq}, ${Math.min(100, Math.round((done / span) * 100))}%`,
              );
            }
          },
          done: () => {
            if (progress) process.stderr.write(`\rreplay: ${printed} frames, done\n`);
            resolve();
          },
          live: (lastSeq) => process.stderr.write(`replay: history done at seq ${lastSeq}, now live\n`),
          reconnecting: (attempt, delay, reason) =>
            process.stderr.write(
              `replay: ${describeFailure(reason)}; reconnecting in ${delay} ms (attempt ${attempt} of ${maxAttempts})\n`,
            ),
          error: reject,
        })
        .catch(reject);
    });
  } finally {
    client.close();
  }
}

/**
 * Ends the command on the error that ended the replay: one line, and the exit status the error model gives
 * its code — 2 when the server refused the request as misuse (e.g. `BAD_REQUEST`), 1 for failures (the
 * server unreachable, `INTERNAL`, …).
 */
function fail(err: ClientError): never {
  const incident = err.incident === undefined ? "" : ` (incident ${err.incident})`;
  const e = new TickringError(
    isErrorCode(err.code) ? err.code : "UNAVAILABLE",
    `${err.code}: ${err.message}${incident}`,
  );
  process.stderr.write(`tickring: replay: ${e.message}\n`);
  process.exit(exitCodeOf(e));
}

/** A seq or a time; both bounds must be of the same kind to be compared. */
function before(to: Position, from: Position): boolean {
  if ("seq" in to && "seq" in from) return to.seq < from.seq;
  if ("time" in to && "time" in from) return Date.parse(String(to.time)) < Date.parse(String(from.time));
  return false;
}

function count(text: string, option: string): number {
  if (!/^\d+$/.test(text)) throw new OptionError(option, `expected a count (0 or more), got "${text}"`);
  return Number(text);
}

function position(text: string, option: string): Position {
  if (/^\d+$/.test(text)) {
    if (Number(text) < 1) throw new OptionError(option, `seqs start at 1, got ${text}`);
    return { seq: Number(text) };
  }
  if (!Number.isNaN(Date.parse(text))) return { time: text };
  throw new OptionError(
    option,
    `expected a seq (e.g. 42) or an ISO time (e.g. 2026-11-23T09:30:00Z), got "${text}"`,
  );
}

/** `seq  time  SYMBOL type field=value …` */
function line(o: Record<string, unknown>): string {
  const time = new Date(Number(BigInt(o.ts_recv as string) / 1_000_000n)).toISOString();
  const rest = Object.entries(o)
    .filter(([k]) => !["seq", "symbol", "type", "ts_event", "ts_recv", "instrument_id"].includes(k))
    .map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : v}`)
    .join(" ");
  return `${o.seq}\t${time}\t${o.symbol}\t${o.type}\t${rest}`;
}
