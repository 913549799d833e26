/**
 * The HTTP endpoints the main thread answers for the workers: `GET /metrics` (Prometheus text), `GET
 * /v1/stats` (JSON) and `POST /v1/admin/snapshot`. Errors are the one error body (`errorBody`), with the
 * HTTP status of their code.
 */
import { errorJson, httpStatusOf, type IncidentLogger, TickringError } from "../errors.js";
import type { OnlineSnapshots } from "../recovery/index.js";
import type { Metrics } from "./metrics.js";

/** An HTTP answer. */
export interface HttpAnswer {
  status: number;
  contentType: string;
  body: string;
}

/** What the endpoints read. */
export interface AdminHttpOptions {
  metrics: Metrics;
  /** `/v1/stats` readings (the metrics' JSON plus what must be read asynchronously). */
  stats(): Promise<Record<string, unknown>>;
  snapshots: OnlineSnapshots;
  /** True once the daemon is shutting down. */
  closing(): boolean;
  log: IncidentLogger;
}

const JSON_TYPE = "application/json";

/** Snapshots asked over HTTP: at most one per this long. */
const SNAPSHOT_INTERVAL_MS = 30_000;

export class AdminHttp {
  private snapshotting = false;
  private lastSnapshotAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly o: AdminHttpOptions) {}

  /** Answers `method path`; never rejects. */
  async answer(method: string, path: string): Promise<HttpAnswer> {
    try {
      if (method === "GET" && path === "/metrics") {
        return {
          status: 200,
          contentType: this.o.metrics.registry.contentType,
          body: await this.o.metrics.text(),
        };
      }
      if (method === "GET" && path === "/v1/stats") {
        return { status: 200, contentType: JSON_TYPE, body: JSON.stringify(await this.o.stats()) };
      }
      if (method === "POST" && path === "/v1/admin/snapshot") return await this.snapshot();
      throw new TickringError("NOT_FOUND", `no route ${method} ${path.slice(0, 100)}`);
    } catch (err) {
      return this.error(err);
    }
  }

  /**
   * An online snapshot into the data directory, answered with its id and seq — not its path: an answer
   * names nothing of the server's file system. One at a time, and at most one per
   * {@link SNAPSHOT_INTERVAL_MS}: each copies the store and the active segment.
   */
  private async snapshot(): Promise<HttpAnswer> {
    if (this.o.closing()) throw new TickringError("NOT_READY", "tickring is closing");
    const now = performance.now();
    if (this.snapshotting || now - this.lastSnapshotAt < SNAPSHOT_INTERVAL_MS) {
      const wait = Math.ceil((SNAPSHOT_INTERVAL_MS - (now - this.lastSnapshotAt)) / 1000);
      throw new TickringError(
        "RATE_LIMITED",
        this.snapshotting
          ? "a snapshot is being taken: try when it is done"
          : `one snapshot per ${SNAPSHOT_INTERVAL_MS / 1000} s: try in ${wait} s`,
      );
    }
    this.snapshotting = true;
    this.lastSnapshotAt = now;
    try {
      const { id, seq } = await this.o.snapshots.take();
      return { status: 200, contentType: JSON_TYPE, body: JSON.stringify({ id, seq }) };
    } finally {
      this.snapshotting = false;
    }
  }

  private error(err: unknown): HttpAnswer {
    const code = err instanceof TickringError ? err.code : "INTERNAL";
    return {
      status: httpStatusOf(code),
      contentType: JSON_TYPE,
      body: errorJson(err, undefined, this.o.log),
    };
  }
}
