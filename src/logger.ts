/** Structured logs (pino, JSON lines on stdout, or stderr for commands whose stdout is their result). */
import { type Logger, pino } from "pino";

export type { Logger };

export function createLogger(level: string, to: "stdout" | "stderr" = "stdout"): Logger {
  return to === "stdout"
    ? pino({ name: "tickring", level })
    : pino({ name: "tickring", level }, pino.destination(2));
}
