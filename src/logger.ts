/**
 * Structured logs (pino): JSON lines on stdout for machines, and for a person at a terminal (stdout is a
 * TTY) pino-pretty's coloured lines — time, level, message, then the fields indented below. Pretty lines are
 * written synchronously by the thread that logs (no transport thread per socket worker), so the main
 * thread's and the workers' lines interleave whole. `NO_COLOR` (no-color.org) keeps them plain.
 */
import { isatty } from "node:tty";
import { type Logger, pino } from "pino";
import pretty from "pino-pretty";

export type { Logger };

/** A logger at `level`; pretty when `pretty` (by default: when stdout is a terminal). */
export function createLogger(level: string, prettyLines = isatty(1)): Logger {
  const options = { name: "tickring", level };
  if (!prettyLines) return pino(options);
  return pino(
    options,
    pretty({
      sync: true,
      colorize: process.env.NO_COLOR === undefined,
      translateTime: "SYS:HH:MM:ss.l",
      ignore: "pid,hostname,name",
    }),
  );
}
