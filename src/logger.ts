/** Structured logs (pino, JSON lines on stdout). */
import { type Logger, pino } from "pino";

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({ name: "tickring", level });
}
