/**
 * `tickring replay`: a client of the historical feed (built on tickring/client) that prints frames as
 * JSON lines (`--json`) or one readable line each, with a progress line on stderr for bounded replays.
 */
import type { Command } from "commander";
import { type Position, TickringClient } from "../client/index.js";
import { OptionError } from "../errors.js";
import { frameToObject } from "../frame/json.js";

export function registerReplayCommand(program: Command): void {
  program
    .command("replay")
    .description("replay history from a running daemon and print it (then follow live with --live)")
    .requiredOption("--url <url>", "daemon URL, e.g. ws://127.0.0.1:9420")
    .option("--symbols <list>", "comma-separated symbols, or * for all", "*")
    .requiredOption("--from <seq|time>", "first seq (e.g. 1) or time (e.g. 2026-11-23T09:30:00Z)")
    .option("--to <seq|time>", "last seq or time, inclusive (default: the newest at start)")
    .option("--speed <max|N>", "max, or a factor of the original timing (1 = as it happened)", "max")
    .option("--live", "continue with the real-time feed after the history, with no gap")
    .option("--json", "print each frame as one JSON line")
    .action(async (flags: Record<string, string | boolean | undefined>) => {
      const from = position(String(flags.from), "--from");
      const to = flags.to === undefined ? undefined : position(String(flags.to), "--to");
      if (flags.live === true && to !== undefined)
        throw new OptionError("--live", "cannot be combined with --to");
      const speed = flags.speed === "max" ? "max" : Number(flags.speed);
      if (speed !== "max" && !(speed > 0))
        throw new OptionError("--speed", `expected max or a positive number, got ${flags.speed}`);
      const symbols =
        flags.symbols === "*"
          ? "*"
          : String(flags.symbols)
              .split(",")
              .filter((s) => s !== "");
      const progress = process.stderr.isTTY && "seq" in from && to !== undefined && "seq" in to;
      const span = progress ? (to as { seq: number }).seq - (from as { seq: number }).seq + 1 : 0;
      // `tickring replay … | head` closes our stdout: that is the reader saying it has enough.
      process.stdout.on("error", (err: NodeJS.ErrnoException) => {
        if (err.code === "EPIPE") process.exit(0);
        throw err;
      });
      let printed = 0;
      const client = new TickringClient({
        url: String(flags.url),
        reconnect: { initialMs: 100, maxMs: 2000 },
      });
      await new Promise<void>((resolve, reject) => {
        client.subscribe(
          { symbols, feed: "historical", from, to, speed, live: flags.live === true },
          {
            frame: (frame, seq) => {
              const o = frameToObject(frame);
              process.stdout.write(flags.json === true ? `${JSON.stringify(o)}\n` : `${line(o)}\n`);
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
            error: (e) => reject(new OptionError("replay", `${e.code}: ${e.message}`)),
            reconnecting: (attempt, delay) =>
              process.stderr.write(`replay: reconnecting (attempt ${attempt}, in ${delay} ms)\n`),
          },
        );
      });
      client.close();
    });
}

function position(text: string, option: string): Position {
  if (/^\d+$/.test(text)) return { seq: Number(text) };
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
