/**
 * HTTP requests a worker cannot answer itself (`/metrics`, `/v1/stats`, `/v1/admin/*`: the main thread
 * holds those readings and the snapshot machinery) go to the main thread and come back as replies matched
 * by id. A client that hangs up before the reply is forgotten; at shutdown every request still waiting gets
 * a 503.
 */
import { errorJson, httpStatusOf, TickringError } from "../errors.js";
import type { ToMain, ToWorker } from "../threads/messages.js";
import type { HttpResponse } from "../transport/transport.js";

type HttpReply = Extract<ToWorker, { t: "http-reply" }>;

/** A request waiting for its reply; one with `onReply` is kept after an abort, so its answer is still heard. */
interface Pending {
  res: HttpResponse;
  aborted: boolean;
  onReply?: (status: number, code: string | undefined) => void;
}

export class HttpProxy {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(private readonly post: (msg: ToMain) => void) {}

  /**
   * Asks the main thread to answer `method path` on `res`; `onReply` hears the answer's status and, for an
   * error, its code.
   */
  ask(
    res: HttpResponse,
    method: string,
    path: string,
    body = "",
    onReply?: (status: number, code: string | undefined) => void,
  ): void {
    const id = this.nextId++;
    const pending = { res, aborted: false, onReply };
    this.pending.set(id, pending);
    res.onAborted(() => {
      pending.aborted = true;
      if (onReply === undefined) this.pending.delete(id);
    });
    this.post({ t: "http", id, method, path, body });
  }

  /** Delivers the main thread's reply. */
  answer(msg: HttpReply): void {
    const pending = this.pending.get(msg.id);
    this.pending.delete(msg.id);
    if (pending === undefined) return;
    pending.onReply?.(msg.status, msg.status >= 400 ? codeOf(msg.body) : undefined);
    if (pending.aborted) return;
    const { res } = pending;
    res.cork(() => {
      res.writeStatus(String(msg.status)).writeHeader("content-type", msg.contentType).end(msg.body, true);
    });
  }

  /** Answers every waiting request with 503 and closes its connection. */
  shutdown(): void {
    const body = errorJson(new TickringError("NOT_READY", "tickring is shutting down"));
    const status = `${httpStatusOf("NOT_READY")} Service Unavailable`;
    for (const { res, aborted } of this.pending.values()) {
      if (aborted) continue;
      res.cork(() => res.writeStatus(status).writeHeader("content-type", "application/json").end(body, true));
    }
    this.pending.clear();
  }
}

/** The `code` of an error body. */
function codeOf(body: string): string | undefined {
  try {
    return (JSON.parse(body) as { code?: string }).code;
  } catch {
    return undefined;
  }
}
