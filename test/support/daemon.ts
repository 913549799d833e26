/**
 * Runs the real daemon in a child process for tests: `tickring serve --port 0` on a temp data dir, the
 * port read from its "tickring serving" log line. Clients are real `ws` WebSockets.
 *
 * `TICKRING_TRANSPORT=ws` (or `uws`, `auto`) runs every daemon of the suite on that transport: .ci/run
 * runs the suite once per transport and Node version.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";
import { after, before } from "node:test";
import WebSocket from "ws";
import { type DaemonProcess, type SpawnOptions, spawnDaemon } from "../../src/daemon/child-process.js";
import { frameSeq } from "../../src/frame/codec.js";

export interface Daemon extends DaemonProcess {
  data: string;
  url(path: string): string;
}

export function tempDir(prefix = "tickring-test-"): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

const running = new Set<DaemonProcess>();

// A test that fails before stopping its daemon must not hang the run (a live child keeps this process
// alive): after the file's tests, whatever is still running is killed.
after(async () => {
  await Promise.all([...running].map((d) => d.kill()));
});

/** The transport the suite runs on (`TICKRING_TRANSPORT`), or undefined for the daemon's default. */
export const TRANSPORT = process.env.TICKRING_TRANSPORT;

/**
 * The real daemon on a free port and a given data dir, 2 workers and no bars unless `args` says otherwise
 * (most tests count the frames they sent; the bar tests turn bars on).
 */
export async function startDaemon(
  data: string,
  args: string[] = [],
  options?: SpawnOptions,
): Promise<Daemon> {
  const transport = TRANSPORT === undefined ? [] : ["--transport", TRANSPORT];
  const d = await spawnDaemon(
    ["--port", "0", "--data", data, "--workers", "2", "--bars", "none", ...transport, ...args],
    options,
  );
  running.add(d);
  d.child.once("exit", () => running.delete(d));
  return { ...d, data, url: (path) => `ws://127.0.0.1:${d.port}${path}` };
}

/** The transport a daemon serves on (`uws` or `ws`), from its ready line: what auto chose, too. */
export function servedOn(d: DaemonProcess): string {
  return String(d.logs.find((l) => l.msg === "tickring serving")?.transport).split(" ")[0];
}

/**
 * A daemon shared by the tests of one `describe()`: started before them on a fresh data dir, stopped after
 * them (a clean exit is checked). Returns a getter, since the daemon exists only once `before` ran.
 */
export function suiteDaemon(args: string[] = []): () => Daemon {
  const dir = tempDir();
  let daemon: Daemon | undefined;
  before(async () => {
    daemon = await startDaemon(dir.path, args);
  });
  after(async () => {
    if (daemon !== undefined) assert.equal(await daemon.stop(), 0, daemon.stderr());
    dir.remove();
  });
  return () => daemon!;
}

/** A WebSocket that records every message it gets. */
export class Client {
  readonly binary: Buffer[] = [];
  /** Text messages, a JSON frame array's elements one by one. */
  readonly text: Record<string, unknown>[] = [];
  /** Text messages received (an array of frames counts once). */
  textMessages = 0;
  closeCode: number | undefined;
  closeReason = "";
  private waiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      if (isBinary) this.binary.push(data);
      else {
        // JSON frames come in arrays (a run per message); control messages are objects with an `op`.
        const parsed = JSON.parse(data.toString()) as Record<string, unknown> | Record<string, unknown>[];
        this.textMessages++;
        if (Array.isArray(parsed)) this.text.push(...parsed);
        else this.text.push(parsed);
      }
      this.wake();
    });
    ws.on("close", (code, reason) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
      this.wake();
    });
  }

  static async connect(url: string, options?: WebSocket.ClientOptions): Promise<Client> {
    const ws = new WebSocket(url, options);
    // Listening from the start: a message may come in the same read as the upgrade's answer.
    const client = new Client(ws);
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    return client;
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === "string" || msg instanceof Uint8Array ? msg : JSON.stringify(msg));
  }

  /** Waits until `done()` holds, re-checking on every message; fails after `timeoutMs`. */
  async until(done: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  /** The first text message with `op`, waiting for it. */
  async nextOp(op: string, from = 0): Promise<Record<string, unknown>> {
    let found: Record<string, unknown> | undefined;
    await this.until(
      () => (found = this.text.slice(from).find((m) => m.op === op)) !== undefined,
      `op ${op}`,
    );
    return found!;
  }

  close(): void {
    this.ws.close();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

/** Splits binary messages into their size-prefixed data frames (heartbeats, seq 0, left out). */
export function framesOf(messages: Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  for (const m of messages) {
    for (let off = 0; off < m.length;) {
      const len = m.readUInt32LE(off) + 4;
      if (frameSeq(m, off) !== 0) out.push(m.subarray(off, off + len));
      off += len;
    }
  }
  return out;
}
