/**
 * Structured logs (pino): JSON lines on stdout (or stderr, for commands whose stdout is their result) for
 * machines, and for a person at a terminal (that stream is a TTY) pino-pretty's coloured lines — time,
 * level, message, then the fields indented below. Pretty lines are written synchronously by the thread that
 * logs (no transport thread per socket worker), so the main thread's and the workers' lines interleave
 * whole. `NO_COLOR` (no-color.org) keeps them plain.
 */
import { isatty } from "node:tty";
import { type Logger, pino } from "pino";
import pretty from "pino-pretty";

export type { Logger };

/** A logger at `level` writing to `to`; pretty when `prettyLines` (by default: when `to` is a terminal). */
export function createLogger(
  level: string,
  to: "stdout" | "stderr" = "stdout",
  prettyLines = isatty(to === "stdout" ? 1 : 2),
): Logger {
  const options = { name: "tickring", level };
  const fd = to === "stdout" ? 1 : 2;
  if (!prettyLines) return fd === 1 ? pino(options) : pino(options, pino.destination(2));
  return pino(
    options,
    pretty({
      sync: true,
      destination: fd,
      colorize: process.env.NO_COLOR === undefined,
      translateTime: "SYS:HH:MM:ss.l",
      ignore: "pid,hostname,name",
    }),
  );
}
