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

export class HttpProxy {
  private readonly pending = new Map<number, { res: HttpResponse; aborted: boolean }>();
  private nextId = 1;

  constructor(private readonly post: (msg: ToMain) => void) {}

  /** Asks the main thread to answer `method path` on `res`. */
  ask(res: HttpResponse, method: string, path: string, body = ""): void {
    const id = this.nextId++;
    const pending = { res, aborted: false };
    this.pending.set(id, pending);
    res.onAborted(() => {
      pending.aborted = true;
      this.pending.delete(id);
    });
    this.post({ t: "http", id, method, path, body });
  }

  /** Delivers the main thread's reply. */
  answer(msg: HttpReply): void {
    const pending = this.pending.get(msg.id);
    this.pending.delete(msg.id);
    if (pending === undefined || pending.aborted) return;
    const { res } = pending;
    res.cork(() => {
      res.writeStatus(String(msg.status)).writeHeader("content-type", msg.contentType).end(msg.body, true);
    });
  }

  /** Answers every waiting request with 503 and closes its connection. */
  shutdown(): void {
    const body = errorJson(new TickringError("NOT_READY", "tickring is shutting down"));
    const status = `${httpStatusOf("NOT_READY")} Service Unavailable`;
    for (const { res } of this.pending.values()) {
      res.cork(() => res.writeStatus(status).writeHeader("content-type", "application/json").end(body, true));
    }
    this.pending.clear();
  }
}
