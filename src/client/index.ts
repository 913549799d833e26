/**
 * The tickring client, for Node and browsers: `import { TickringClient } from "tickring/client"`.
 *
 * Each subscription has its own connection, so every binary frame on it is that subscription's and a
 * recovery never mixes old and new frames. The client remembers the last seq it handed the application;
 * after a reconnect, or a `gap` from the server (a slow client under `drop`), it subscribes again as a
 * historical replay from the next seq with `live:true`, and drops any frame at or below the last seq: the
 * application sees every seq once, in order. For `["*"]` it also notices a missing seq by itself.
 *
 * Frames are handed over as lazy FlatBuffers accessors over the received bytes: fields are decoded only
 * when read.
 *
 * Browser-safe: nothing here imports a Node module at load time; `ws` is imported only in Node, when
 * first needed (test/client/browser-safe.test.ts keeps it so).
 */
import type { Frame } from "../frame/generated/tickring/fb/frame.js";
import type { ClientOptions, TokenSource, WebSocketConstructor } from "./options.js";
import { type Backoff, resolveReconnect } from "./options.js";
import {
  ClientSubscription,
  type SubscribeOptions,
  type Subscription,
  type SubscriptionHandlers,
} from "./subscription.js";

export type { Frame };
export { ClientError, type ConnectionFailureCode, describeFailure } from "./errors.js";
export type {
  ClientOptions,
  ReconnectOptions,
  TokenSource,
  WebSocketConstructor,
  WebSocketLike,
} from "./options.js";
export type { Position, SubscribeOptions, Subscription, SubscriptionHandlers } from "./subscription.js";

export class TickringClient {
  private readonly url: string;
  private readonly backoff: Backoff | false;
  private ctor: WebSocketConstructor | undefined;
  private readonly subs = new Set<ClientSubscription>();
  private readonly token: TokenSource | undefined;

  /** Throws a `BAD_OPTION` {@link ClientError} when `reconnect` is out of range. */
  constructor(options: ClientOptions) {
    this.url = `${options.url.replace(/\/+$/, "").replace(/\/v1\/feed$/, "")}/v1/feed`;
    this.backoff = resolveReconnect(options.reconnect);
    this.token = options.token;
    // In Node, `ws` even where Node has a global WebSocket (22 and later): Node's says only "Received network
    // error" where `ws` says ECONNREFUSED or ENOTFOUND, and Node 22's fires no close after a failed connect.
    const inNode = (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node;
    this.ctor =
      options.WebSocket ??
      (inNode === undefined ? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket : undefined);
  }

  /**
   * Subscribes, resolving once the server has accepted the subscription. It rejects with a
   * {@link ClientError} when the server refuses it (the server's `code`, e.g. `BAD_REQUEST`), or when the
   * first connection fails (`UNAVAILABLE`, the socket's failure as `cause`, e.g. `ECONNREFUSED`): the first
   * connection is not retried, so a wrong URL or a server that is down fails fast. Once accepted, the
   * subscription survives lost connections as `reconnect` allows, reporting each failure to
   * `handlers.reconnecting` and the end to `handlers.error`.
   *
   * Handlers may be called before the promise's continuation runs (frames can follow the acceptance in
   * the same network read).
   */
  async subscribe(options: SubscribeOptions, handlers: SubscriptionHandlers): Promise<Subscription> {
    this.ctor ??= (await import("ws")).default as unknown as WebSocketConstructor;
    const sub = new ClientSubscription(
      this.url,
      this.ctor,
      options,
      handlers,
      this.backoff,
      () => this.subs.delete(sub),
      this.token,
    );
    this.subs.add(sub);
    sub.connect();
    return sub.accepted;
  }

  /** Closes every subscription (those not accepted yet reject with `CLOSED`). */
  close(): void {
    for (const sub of [...this.subs]) sub.close();
  }
}
