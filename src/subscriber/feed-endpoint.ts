/**
 * What `/v1/feed` does with a connection, independent of the transport: parses each request, opens and
 * closes its subscriptions on the three feeds (real-time, delayed, historical), forwards drains, and
 * answers errors that name the subscription they concern. One per worker.
 *
 * A `live:true` historical replay is a replay-merge: it reads history until the next seq it would send
 * follows the newest seq the worker has fanned out from the ring, and joins the real-time feed in that same
 * synchronous step (see replay.ts).
 */
import type { FeedLimits, SlowConsumerPolicy } from "../config/options.js";
import { errnoOf, errorJson, type IncidentLogger, TickringError } from "../errors.js";
import type { JsonRenderer } from "../frame/json-render.js";
import { type DelayedFeed } from "./delayed-feed.js";
import type { FeedAccess, FeedGrant } from "./feed-access.js";
import { HistoryReader, type HistorySources } from "./history.js";
import { parseFeedRequest, type SubscribeRequest } from "./protocol.js";
import {
  type FeedConnection,
  type FeedCounters,
  type RealtimeFeed,
  RealtimeSubscription,
  type SendLimit,
} from "./realtime-feed.js";
import { JsonRun } from "./json-run.js";
import { HistoricalReplay, type ReplayHost, type ReplayPlan } from "./replay.js";
import { FrameFilter } from "./frame-filter.js";
import type { ReplayScheduler } from "./replay-scheduler.js";
import { resolveRange } from "./seq-range.js";

/** A feed connection with its subscriptions, by the ids the client gave them. */
export interface FeedSession extends FeedConnection {
  subs: Map<number, RealtimeSubscription>;
  delayed: Map<number, RealtimeSubscription>;
  replays: Map<number, HistoricalReplay>;
  /** Symbols each open subscription (and replay being resolved) counts against the connection's limit. */
  symbolsOf: Map<number, number>;
  symbols: number;
  /** Replays being resolved (time → seq) or running. */
  replaying: number;
  /** What its token entitles it to; absent when the server runs without authentication. */
  access?: FeedAccess;
}

/** What a {@link FeedEndpoint} is built from. */
export interface FeedEndpointOptions {
  realtime: RealtimeFeed;
  delayed: DelayedFeed;
  history: HistorySources;
  /** The newest seq this worker has fanned out from the ring. */
  dispatchedSeq(): number;
  /** The newest seq the sequencer has written (it may be ahead of the ring pump). */
  writtenSeq(): number;
  /** Bytes a subscriber's socket may hold before its policy applies (the worker adjusts it). */
  limit: SendLimit;
  slowConsumer: SlowConsumerPolicy;
  delayMs: number;
  counters: FeedCounters;
  limits: FeedLimits;
  /** The worker's JSON renderer (its symbol cache is shared with the real-time feed's). */
  renderer: JsonRenderer;
  /** The worker's replay turns and count, shared with its HTTP history answers. */
  scheduler: ReplayScheduler;
  /** Where errors whose details stay on the server are logged. */
  log: IncidentLogger;
}

export class FeedEndpoint {
  private readonly replayHost: ReplayHost;

  constructor(private readonly o: FeedEndpointOptions) {
    this.replayHost = {
      liveSeq: () => o.dispatchedSeq(),
      goLive: (replay) => {
        const conn = replay.conn as FeedSession;
        conn.replays.delete(replay.id);
        // The subscription lives on as a real-time one: it keeps its symbols, not its replay slot.
        o.scheduler.held--;
        conn.replaying--;
        if (conn.closed) return;
        const { plan } = replay;
        const sub = new RealtimeSubscription(plan.id, conn, plan.filter, plan.json, plan.policy);
        conn.subs.set(plan.id, sub);
        o.realtime.add(sub);
      },
      ended: (replay) => {
        const conn = replay.conn as FeedSession;
        if (conn.replays.delete(replay.id)) this.endReplay(conn, replay.id);
      },
      failed: (replay, err) => this.sendError(replay.conn, outOfFiles(err) ?? err, replay.id),
      json: new JsonRun(o.renderer),
      scheduler: o.scheduler,
    };
  }

  /** Readies a new connection's session. */
  open(conn: FeedSession): void {
    conn.subs = new Map();
    conn.delayed = new Map();
    conn.replays = new Map();
    conn.symbolsOf = new Map();
    conn.symbols = 0;
    conn.replaying = 0;
  }

  /** Handles one text request of `conn`; never throws (errors go to the client). */
  request(conn: FeedSession, text: string): void {
    let id: number | undefined;
    try {
      const req = parseFeedRequest(text);
      switch (req.op) {
        case "ping":
          conn.ws.send(`{"op":"pong","seq":${this.o.dispatchedSeq()}}`, false);
          return;
        case "unsubscribe":
          id = req.id;
          this.unsubscribe(conn, req.id);
          return;
        case "subscribe":
          id = req.id;
          this.subscribe(conn, req);
          return;
      }
    } catch (err) {
      this.sendError(conn, err, id);
    }
  }

  /** The socket drained: subscriptions waiting on it send again. */
  drained(conn: FeedSession): void {
    for (const sub of conn.subs.values()) this.o.realtime.drained(sub);
    for (const replay of conn.replays.values()) replay.pump();
    for (const sub of conn.delayed.values()) this.o.delayed.drained(sub);
  }

  /** The connection closed: every subscription of it ends. */
  closed(conn: FeedSession): void {
    conn.closed = true;
    for (const sub of conn.subs.values()) this.o.realtime.remove(sub);
    conn.subs.clear();
    for (const replay of [...conn.replays.values()]) replay.stop();
    for (const sub of conn.delayed.values()) this.o.delayed.remove(sub);
    conn.delayed.clear();
    conn.symbolsOf.clear();
    conn.symbols = 0;
  }

  /** Subscriptions open on `conn`. */
  subscriptions(conn: FeedSession): number {
    return conn.subs.size + conn.delayed.size + conn.replays.size;
  }

  private unsubscribe(conn: FeedSession, id: number): void {
    const sub = conn.subs.get(id);
    const late = conn.delayed.get(id);
    const replay = conn.replays.get(id);
    if (sub === undefined && late === undefined && replay === undefined) {
      throw new TickringError("BAD_REQUEST", `no subscription with id ${id}`);
    }
    if (sub !== undefined) this.o.realtime.remove(sub);
    if (late !== undefined) this.o.delayed.remove(late);
    conn.subs.delete(id);
    conn.delayed.delete(id);
    replay?.stop();
    this.forgetSymbols(conn, id);
    conn.ws.send(`{"op":"unsubscribed","id":${id}}`, false);
  }

  private subscribe(conn: FeedSession, req: SubscribeRequest): void {
    if (inUse(conn, req.id)) throw new TickringError("BAD_REQUEST", `subscription id ${req.id} is in use`);
    const grant = conn.access?.admit(req);
    this.admit(conn, req);
    if (req.feed === "historical") {
      this.o.scheduler.held++;
      conn.replaying++;
      this.startReplay(conn, req, grant).catch((err) => {
        if (!conn.replays.has(req.id)) this.endReplay(conn, req.id);
        this.sendError(conn, err, req.id);
      });
      return;
    }
    const sub = new RealtimeSubscription(
      req.id,
      conn,
      new FrameFilter(req.symbols, req.types, req.bars, grant?.allow),
      req.format === "json",
      req.policy ?? this.o.slowConsumer,
    );
    if (req.feed === "delayed") {
      conn.delayed.set(req.id, sub);
      conn.ws.send(`{"op":"subscribed","id":${req.id},"feed":"delayed","delay_ms":${this.o.delayMs}}`, false);
      this.o.delayed.add(sub).catch((err) => {
        conn.delayed.delete(req.id);
        this.forgetSymbols(conn, req.id);
        this.sendError(conn, err, req.id);
      });
      return;
    }
    conn.subs.set(req.id, sub);
    const start = this.o.realtime.lastValuesFor(sub);
    const partial = start.partial ? `,"last_values":"partial"` : "";
    conn.ws.send(
      `{"op":"subscribed","id":${req.id},"feed":"realtime","seq":${this.o.dispatchedSeq()}${partial}}`,
      false,
    );
    this.o.realtime.add(sub, start);
  }

  /** Refuses a subscription past a limit (LIMIT_REACHED), else counts its symbols against its connection. */
  private admit(conn: FeedSession, req: SubscribeRequest): void {
    const l = this.o.limits;
    const byToken = conn.access?.maxSubscriptions ?? Number.POSITIVE_INFINITY;
    const most = Math.min(l.subscriptions, byToken);
    if (this.subscriptions(conn) + conn.replaying - conn.replays.size >= most) {
      const whose = byToken === most ? " (its token's max_subscriptions)" : "";
      throw new TickringError("LIMIT_REACHED", `at most ${most} subscriptions per connection${whose}`);
    }
    const weight = req.symbols === null ? 1 : req.symbols.length;
    if (conn.symbols + weight > l.symbols) {
      throw new TickringError(
        "LIMIT_REACHED",
        `at most ${l.symbols} symbols per connection over all its subscriptions; it has ${conn.symbols}, this one asks for ${weight}`,
      );
    }
    if (req.feed === "historical") {
      if (conn.replaying >= l.replays) {
        throw new TickringError("LIMIT_REACHED", `at most ${l.replays} historical replays per connection`);
      }
      if (this.o.scheduler.held >= l.replaysPerWorker) {
        throw new TickringError(
          "LIMIT_REACHED",
          "this server runs as many historical replays as it can: try later",
        );
      }
    }
    conn.symbolsOf.set(req.id, weight);
    conn.symbols += weight;
  }

  private forgetSymbols(conn: FeedSession, id: number): void {
    conn.symbols -= conn.symbolsOf.get(id) ?? 0;
    conn.symbolsOf.delete(id);
  }

  /** A replay ended (or never started): its slot and its symbols are free again. */
  private endReplay(conn: FeedSession, id: number): void {
    this.o.scheduler.held--;
    conn.replaying--;
    this.forgetSymbols(conn, id);
  }

  /**
   * Resolves a historical request to seqs and starts its replay. A `from` past the newest seq is refused; a
   * `from` older than what retention kept starts at the oldest seq kept, after a `gap` with
   * `"reason":"retired"` naming the seqs that are gone for good. A `from` before what the token may reach
   * back to is refused.
   */
  private async startReplay(
    conn: FeedSession,
    req: SubscribeRequest,
    grant: FeedGrant | undefined,
  ): Promise<void> {
    const o = this.o;
    const newest = Math.max(o.dispatchedSeq(), o.writtenSeq());
    const { fromSeq, toSeq, toTimeNs, retired } = await resolveRange(o.history, req.from!, req.to, newest, {
      live: req.live,
      waitForTo: true,
      grant,
    });
    if (conn.closed) {
      this.endReplay(conn, req.id);
      return;
    }
    const plan: ReplayPlan = {
      id: req.id,
      filter: new FrameFilter(req.symbols, req.types, req.bars, grant?.allow),
      json: req.format === "json",
      toSeq,
      toTimeNs,
      speed: req.speed,
      live: req.live,
      policy: req.policy ?? o.slowConsumer,
    };
    const replay = new HistoricalReplay(
      plan,
      conn,
      new HistoryReader(o.history, fromSeq, (gapFrom, gapTo, reason) => {
        if (conn.closed) return;
        conn.ws.send(
          `{"op":"gap","id":${req.id},"from":${gapFrom},"to":${gapTo},"reason":"${reason}"}`,
          false,
        );
        o.counters.gaps++;
      }),
      this.replayHost,
      o.limit,
      o.counters,
    );
    conn.replays.set(req.id, replay);
    conn.ws.send(
      `{"op":"subscribed","id":${req.id},"feed":"historical","from_seq":${fromSeq},"to_seq":${req.live ? null : toSeq}}`,
      false,
    );
    if (retired !== undefined) {
      conn.ws.send(
        `{"op":"gap","id":${req.id},"from":${retired[0]},"to":${retired[1]},"reason":"retired"}`,
        false,
      );
      o.counters.gaps++;
    }
    replay.pump();
  }

  private sendError(conn: FeedConnection, err: unknown, id: number | undefined): void {
    if (!conn.closed) conn.ws.send(errorJson(err, id, this.o.log), false);
  }
}

/** A replay that found no file descriptor to spare is refused as a limit, not as an internal error. */
function outOfFiles(err: unknown): TickringError | undefined {
  const errno = errnoOf(err);
  if (errno !== "EMFILE" && errno !== "ENFILE") return undefined;
  return new TickringError("LIMIT_REACHED", "the server has no file to spare for this replay: try later", {
    cause: err,
  });
}

/** Whether `id` names an open subscription of `conn`, or a replay still being resolved. */
function inUse(conn: FeedSession, id: number): boolean {
  return conn.symbolsOf.has(id);
}
