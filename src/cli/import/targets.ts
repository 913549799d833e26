/**
 * Where `tickring import` writes: a stopped daemon's data directory (offline, through the storage API) or a
 * running daemon (online, through `/v1/ingest`, acks awaited).
 *
 * Offline, the directory is locked (a running daemon, or another import, is refused with
 * `ERR_DATA_LOCKED`), recovered as the daemon would at start, and the ticks are appended to the WAL with
 * the next seqs; the daemon's indexer indexes them into the store at its next start. Their ts_recv is their
 * ts_event, kept non-decreasing (the time index needs ts_recv to grow with seq): a tick earlier than the
 * data already there gets the latest ts_recv so far. Time queries (`from`/`to` as times) therefore find an
 * imported session by its own times when its rows are in time order.
 */
import WebSocket from "ws";
import { isErrorCode, TickringError } from "../../errors.js";
import { FrameView } from "../../frame/codec.js";
import { type DataDir, openWalReader } from "../../storage/index.js";
import { type OfflineDataDir, openOfflineDataDir } from "../offline-data-dir.js";

/** What an offline import needs of its target (an {@link OfflineTarget}; tests interpose on it). */
export interface WalTarget {
  readonly dataDir: { readonly path: string };
  /** The highest seq written, and its ts_recv. */
  readonly lastSeq: number;
  readonly lastTsRecv: bigint;
  /** Where the import may keep a file's frames between checking and appending them. */
  readonly spoolPath: string;
  /** Appends a frame encoded with seq `seq`, which must be `lastSeq + 1`. */
  append(frame: Uint8Array, seq: number): void;
  /** Makes everything appended durable, and acked (the data directory's acked mark). */
  commit(): Promise<void>;
}

/** What an online import needs of its target (an {@link OnlineTarget}). */
export interface IngestTarget {
  /** Sends ticks as one message; `onAck` gets its seq once acked, in order. */
  send(ticks: readonly Record<string, unknown>[], onAck: (seq: number) => void): Promise<void>;
  /** Waits until every message sent is acked. */
  drain(): Promise<void>;
}

/** A data directory being imported into. */
export class OfflineTarget implements WalTarget {
  private constructor(
    private readonly dir: OfflineDataDir,
    readonly lastTsRecv: bigint,
  ) {}

  /** Locks and recovers `path` (created when absent). */
  static async open(path: string): Promise<OfflineTarget> {
    const dir = await openOfflineDataDir(path);
    try {
      return new OfflineTarget(dir, lastTsRecv(dir.dataDir.walDir, dir.wal.lastSeq));
    } catch (err) {
      await dir.close();
      throw err;
    }
  }

  get dataDir(): DataDir {
    return this.dir.dataDir;
  }

  get lastSeq(): number {
    return this.dir.wal.lastSeq;
  }

  get spoolPath(): string {
    return this.dir.dataDir.importSpool;
  }

  append(frame: Uint8Array, seq: number): void {
    this.dir.wal.append(frame, seq);
  }

  async commit(): Promise<void> {
    await this.dir.wal.flush();
    await this.dir.acked.persist(this.dir.wal.durableSeq);
  }

  /** Closes the WAL and the store and unlocks the directory. */
  close(): Promise<void> {
    return this.dir.close();
  }
}

/** ts_recv of seq `lastSeq` in the WAL (0 for an empty one). */
function lastTsRecv(walDir: string, lastSeq: number): bigint {
  if (lastSeq === 0) return 0n;
  const r = openWalReader(walDir, lastSeq);
  try {
    const b = r.nextSync(lastSeq);
    return b === null ? 0n : new FrameView().wrap(b.bytes, b.offsets[0]).tsRecv();
  } finally {
    r.close();
  }
}

/** Messages in flight (sent, not acked) at most, online. */
const WINDOW = 8;

interface InFlight {
  id: number;
  onAck: (seq: number) => void;
}

/** A running daemon being imported into through `/v1/ingest`. */
export class OnlineTarget implements IngestTarget {
  private readonly inFlight: InFlight[] = [];
  private nextId = 1;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  private constructor(private readonly ws: WebSocket) {
    ws.on("message", (data) => this.reply(data.toString()));
    ws.on("close", (code, reason) =>
      this.fail(
        new TickringError("UNAVAILABLE", `the daemon closed the connection (${code} ${reason.toString()})`),
      ),
    );
    ws.on("error", (err) =>
      this.fail(new TickringError("UNAVAILABLE", `ingest connection: ${err.message}`, { cause: err })),
    );
  }

  /** Connects to `url` (ws://host:port, `/v1/ingest` implied). */
  static async connect(url: string): Promise<OnlineTarget> {
    const u = new URL(url);
    if (u.pathname === "/" || u.pathname === "") u.pathname = "/v1/ingest";
    const ws = new WebSocket(u);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", (err) =>
        reject(new TickringError("UNAVAILABLE", `cannot reach ${u.href}: ${err.message}`, { cause: err })),
      );
    });
    return new OnlineTarget(ws);
  }

  /** Sends ticks (JSON spelling) as one message; waits while {@link WINDOW} messages are unacked. */
  async send(ticks: readonly Record<string, unknown>[], onAck: (seq: number) => void): Promise<void> {
    while (this.failure === undefined && this.inFlight.length >= WINDOW) await this.next();
    if (this.failure !== undefined) throw this.failure;
    const id = this.nextId++;
    this.inFlight.push({ id, onAck });
    this.ws.send(JSON.stringify({ id, ticks }));
  }

  /** Waits until every message sent is acked. */
  async drain(): Promise<void> {
    while (this.failure === undefined && this.inFlight.length > 0) await this.next();
    if (this.failure !== undefined) throw this.failure;
  }

  close(): void {
    this.ws.removeAllListeners("close");
    this.ws.close();
  }

  private next(): Promise<void> {
    return new Promise((resolve) => (this.wake = resolve));
  }

  private reply(text: string): void {
    let msg: { op?: string; id?: number; seq?: number; code?: string; message?: string };
    try {
      msg = JSON.parse(text);
    } catch {
      return this.fail(new TickringError("UNAVAILABLE", "the daemon answered something that is not JSON"));
    }
    if (msg.op === "ack" && this.inFlight[0]?.id === msg.id) {
      this.inFlight.shift()!.onAck(msg.seq!);
      this.notify();
    } else if (msg.op === "error") {
      const code = isErrorCode(msg.code) ? msg.code : "INTERNAL";
      this.fail(new TickringError(code, `the daemon refused message ${msg.id ?? "?"}: ${msg.message ?? ""}`));
    }
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.notify();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }
}
