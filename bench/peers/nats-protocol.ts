/**
 * Just enough of the NATS client protocol (https://docs.nats.io/reference/reference-protocols/nats-protocol)
 * for the benchmarks to publish over TCP and subscribe over the server's WebSocket listener with the same
 * `ws` and `net` sockets the tickring side uses, so neither side pays for a heavier client library.
 *
 * The parser is a byte-level loop over `INFO`/`MSG`/`PING`/`PONG`/`+OK`/`-ERR` lines; payloads are
 * `subarray` views, and bytes are joined only when an operation straddles two chunks.
 */

export const CONNECT_LINE = `CONNECT ${JSON.stringify({
  verbose: false,
  pedantic: false,
  lang: "tickring-bench",
  version: "0",
  protocol: 1,
  headers: false,
  no_responders: false,
})}\r\n`;

export interface NatsHandlers {
  /** A `MSG` payload (a view: copy it to keep it). */
  onMsg(payload: Buffer): void;
  /** Bytes to send back (`PONG` to a server `PING`). */
  reply(data: string): void;
  onPong?(): void;
  onInfo?(info: Record<string, unknown>): void;
  /** A `-ERR` line from the server (default: thrown from `push`). */
  onErr?(line: string): void;
}

const CR = 13;

/** A streaming parser: feed it every chunk the socket delivers, in order. */
export class NatsParser {
  private rest: Buffer | null = null;

  constructor(private readonly h: NatsHandlers) {}

  push(chunk: Buffer): void {
    const buf = this.rest === null ? chunk : Buffer.concat([this.rest, chunk]);
    this.rest = null;
    let pos = 0;
    while (pos < buf.length) {
      const eol = buf.indexOf(CR, pos);
      if (eol < 0 || eol + 1 >= buf.length) break;
      const op = buf[pos];
      if (op === 0x4d /* M */) {
        // MSG <subject> <sid> [reply-to] <#bytes>
        let sp = eol - 1;
        while (buf[sp] !== 0x20) sp--;
        const size = Number(buf.toString("latin1", sp + 1, eol));
        const start = eol + 2;
        if (start + size + 2 > buf.length) break;
        this.h.onMsg(buf.subarray(start, start + size));
        pos = start + size + 2;
        continue;
      }
      const line = buf.toString("latin1", pos, eol);
      pos = eol + 2;
      if (line === "PING") this.h.reply("PONG\r\n");
      else if (line === "PONG") this.h.onPong?.();
      else if (line.startsWith("INFO ")) this.h.onInfo?.(JSON.parse(line.slice(5)));
      else if (line.startsWith("-ERR")) {
        if (this.h.onErr === undefined) throw new Error(`nats-server: ${line}`);
        this.h.onErr(`nats-server: ${line}`);
      }
    }
    if (pos < buf.length) this.rest = Buffer.from(buf.subarray(pos));
  }
}

/** `PUB subject n\r\n<payload>\r\n` for each payload, one message each, as one buffer. */
export function pubCommands(subjects: string[], payloads: Buffer[]): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < payloads.length; i++) {
    parts.push(Buffer.from(`PUB ${subjects[i]} ${payloads[i].length}\r\n`, "latin1"), payloads[i], CRLF);
  }
  return Buffer.concat(parts);
}

const CRLF = Buffer.from("\r\n");
