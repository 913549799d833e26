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

export class AdminHttp {
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

  /** An online snapshot into the data directory, answered with its id and seq. */
  private async snapshot(): Promise<HttpAnswer> {
    if (this.o.closing()) throw new TickringError("NOT_READY", "tickring is closing");
    const { id, seq, path } = await this.o.snapshots.take();
    return { status: 200, contentType: JSON_TYPE, body: JSON.stringify({ id, seq, path }) };
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
