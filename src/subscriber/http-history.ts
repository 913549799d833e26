/**
 * History over HTTP, answered by each socket worker on the feeds' port — no WebSocket needed:
 *
 * - `GET /v1/history?symbols=AAPL,MSFT&from=…&to=…&types=trade,quote&bars=1m&format=ndjson|csv|json&limit=N`:
 *   the frames of a range, as the historical feed would send them (from the store and the WAL alike);
 * - `GET /v1/bars?symbols=AAPL&interval=5m&from=…&to=…&format=…&limit=N`: bars of any whole-second interval
 *   computed from the stored trades of the range (src/subscriber/bar-query.ts);
 * - `GET /v1/last?symbols=AAPL,MSFT&types=…&bars=…&format=…`: the last value of each kind per symbol, from this
 *   worker's last-value cache;
 * - `GET /v1/symbols?format=…`: the symbols history holds, with first/last seq and time and counts.
 *
 * `from`/`to` are a seq or an ISO time compared with ts_recv, as on the WebSocket (seq-range.ts). Answers
 * stream in chunks (chunked transfer), each written once the client took the last, in turns beside the
 * worker's replays (http-stream.ts): memory per answer is a read buffer and a chunk or two, whatever the
 * range. Seqs history cannot give are said in the answer where they fall (history-text.ts). What a client
 * may ask is bounded as on the WebSocket, with the same codes: bad parameters are 400 `BAD_REQUEST`; more
 * symbols than `--max-symbols`, more answers at once than the worker's replay slots
 * (`--max-replays-per-worker`, shared with its replays), or a request from an address that holds
 * `--max-connections-per-ip` connections already are 429 `LIMIT_REACHED`; `/v1/last` answers at most a
 * send limit's worth of last values, and says when it left some out.
 *
 * Rendering happens here, in place: bench/http measured it against a piscina pool thread (docs/design-notes.md,
 * "HTTP history renders in place").
 */
import type { FeedLimits } from "../config/options.js";
import type { IncidentLogger } from "../errors.js";
import { TickringError } from "../errors.js";
import { Body, frameBodyType } from "../frame/codec.js";
import type { JsonRenderer } from "../frame/json-render.js";
import type { HttpSink } from "../transport/http-sink.js";
import { BarQuery } from "./bar-query.js";
import { FrameFilter } from "./frame-filter.js";
import { BAR_COLUMNS, barCsv, barJson, CONTENT_TYPE, csvField, FrameText } from "./frame-text.js";
import type { FeedAccess, FeedGrant } from "./feed-access.js";
import type { HistorySources } from "./history.js";
import { FRAMING, gapText, renderHistory } from "./history-text.js";
import { type DataQuery, parseDataQuery, type QueryRules } from "./http-query.js";
import { HttpStream } from "./http-stream.js";
import type { LastValueCache } from "./last-value-cache.js";
import type { SendLimit } from "./realtime-feed.js";
import type { ReplayScheduler } from "./replay-scheduler.js";
import { resolveRange, scanRange, type SeqRange } from "./seq-range.js";
import { isoTime, SymbolTable } from "./symbol-table.js";

/** What an {@link HttpHistory} is built from. */
export interface HttpHistoryOptions {
  history: HistorySources;
  /** The worker's last values (the real-time feed's). */
  lastValues: LastValueCache;
  /** The newest seq the sequencer has written (and the worker fanned out, if higher). */
  newestSeq(): number;
  /** The worker's replay turns and slots (shared with its WebSocket replays). */
  scheduler: ReplayScheduler;
  /** The worker's JSON renderer. */
  renderer: JsonRenderer;
  /** `symbols` per request at most (`--max-symbols`), and answers streaming per worker at most (its replays'). */
  limits: Pick<FeedLimits, "symbols" | "replaysPerWorker">;
  /** Bytes of last values `/v1/last` answers at most: what one subscriber's socket may hold (the worker's). */
  sendLimit: SendLimit;
  /**
   * A request from `ip` may be answered (undefined) or is refused: the answer counts as one of the address's
   * connections until {@link release}.
   */
  admit(ip: string): TickringError | undefined;
  release(ip: string): void;
  /** A client that takes nothing of a written chunk for this long is cut, ms. */
  stallMs: number;
  log: IncidentLogger;
}

/** How long a client may take nothing of an answer before it is cut, ms (uWS itself cuts at about 10 s). */
export const HTTP_STALL_MS = 30_000;

const RULES: Record<string, QueryRules> = {
  "/v1/history": {
    takes: ["symbols", "from", "to", "types", "bars", "format", "limit"],
    requires: ["symbols", "from"],
    format: "ndjson",
  },
  "/v1/bars": {
    takes: ["symbols", "interval", "from", "to", "format", "limit"],
    requires: ["symbols", "interval", "from"],
    format: "ndjson",
  },
  "/v1/last": { takes: ["symbols", "types", "bars", "format"], requires: ["symbols"], format: "json" },
  "/v1/symbols": { takes: ["format"], requires: [], format: "json" },
};

/** The paths {@link HttpHistory.serve} answers (GET). */
export const DATA_PATHS = Object.keys(RULES);

export class HttpHistory {
  /** The paths it answers. */
  readonly paths = DATA_PATHS;
  private readonly symbolTable: SymbolTable;

  constructor(private readonly o: HttpHistoryOptions) {
    this.symbolTable = new SymbolTable(o.history);
  }

  /**
   * Answers `GET path?query` from a client at `ip`, whose token grants `access` (undefined: auth is off), on
   * `res`; never throws (errors are answers).
   */
  serve(path: string, query: string, res: HttpSink, ip: string, access?: FeedAccess): void {
    const o = this.o;
    const stream = new HttpStream(res, o);
    let q: DataQuery;
    try {
      q = parseDataQuery(query, RULES[path]);
      if (q.symbols !== null && q.symbols.length > o.limits.symbols) {
        throw new TickringError(
          "LIMIT_REACHED",
          `at most ${o.limits.symbols} symbols per request; this one asks for ${q.symbols.length}`,
        );
      }
      if (o.scheduler.held >= o.limits.replaysPerWorker) {
        throw new TickringError("LIMIT_REACHED", "this server streams as many answers as it can: try later");
      }
      const refused = o.admit(ip);
      if (refused !== undefined) throw refused;
    } catch (err) {
      stream.fail(err);
      return;
    }
    o.scheduler.held++;
    this.answer(path, q, stream, access)
      .then(
        () => stream.end(),
        (err: unknown) => stream.fail(err),
      )
      .finally(() => {
        o.scheduler.held--;
        o.release(ip);
      });
  }

  private async answer(
    path: string,
    q: DataQuery,
    stream: HttpStream,
    access: FeedAccess | undefined,
  ): Promise<void> {
    // What the token may read, as the feed each endpoint reads (throws FORBIDDEN, before any byte).
    const grant = access?.admit({
      feed: path === "/v1/last" ? "realtime" : "historical",
      symbols: q.symbols,
      live: false,
    });
    if (!(await stream.begin())) return;
    switch (path) {
      case "/v1/history":
        return this.history(q, stream, grant);
      case "/v1/bars":
        return this.bars(q, stream, grant);
      case "/v1/last":
        return this.last(q, stream, grant);
      default:
        return this.symbols(q, stream, grant);
    }
  }

  private range(q: DataQuery, grant: FeedGrant | undefined): Promise<SeqRange> {
    return resolveRange(this.o.history, q.from!, q.to, this.o.newestSeq(), { grant });
  }

  private async history(q: DataQuery, stream: HttpStream, grant: FeedGrant | undefined): Promise<void> {
    const range = await this.range(q, grant);
    stream.start(CONTENT_TYPE[q.format], rangeHeaders(range));
    await renderHistory(this.o.history, range, { ...q, allow: grant?.allow }, stream);
  }

  private async bars(q: DataQuery, stream: HttpStream, grant: FeedGrant | undefined): Promise<void> {
    const range = await this.range(q, grant);
    const trades = new FrameFilter(q.symbols, ["trade"], null, grant?.allow);
    const f = FRAMING[q.format];
    const csv = q.format === "csv";
    const out = stream.chunks;
    let records = 0;
    let n = 0;
    const query = new BarQuery(q.intervalNs, (symbol, endNs, bar, revision) => {
      if (n >= q.limit) return;
      n++;
      if (records++ > 0 && f.sep !== "") out.text(f.sep);
      out.text(
        csv
          ? barCsv(symbol.csv, q.intervalNs, endNs, bar, revision)
          : barJson(symbol.json, q.intervalNs, endNs, bar, revision) + f.end,
      );
    });
    stream.start(CONTENT_TYPE[q.format], {
      ...rangeHeaders(range),
      "x-tickring-bar-window-ns": String(query.windowNs),
    });
    out.text(csv ? BAR_COLUMNS.join(",") + "\n" : f.open);
    const pace = () => (n >= q.limit ? false : stream.pace());
    const gap = (from: number, to: number, reason: Parameters<typeof gapText>[3]) => {
      if (records++ > 0 && f.sep !== "") out.text(f.sep);
      out.text(gapText(q.format, from, to, reason));
    };
    await scanRange(
      this.o.history,
      range,
      (bytes, off) => {
        if (trades.matches(bytes, off)) query.add(bytes, off);
        return pace();
      },
      gap,
    );
    await query.finish(pace);
    if (query.needsSecondPass && n < q.limit && !stream.aborted) {
      // The gaps were said in the first pass.
      await scanRange(
        this.o.history,
        range,
        (bytes, off) => {
          if (trades.matches(bytes, off)) query.addAgain(bytes, off);
          return stream.pace();
        },
        () => {},
      );
      await query.finishAgain(pace);
    }
    out.text(f.close);
  }

  private last(q: DataQuery, stream: HttpStream, grant: FeedGrant | undefined): void {
    const filter = new FrameFilter(q.symbols, q.types, q.bars, grant?.allow);
    const { frames, partial } = this.o.lastValues.lastValues(filter, this.o.sendLimit.bytes);
    const text = new FrameText(q.types);
    const f = FRAMING[q.format];
    const out = stream.chunks;
    stream.start(CONTENT_TYPE[q.format], partial ? { "x-tickring-last-values": "partial" } : {});
    // Rendered at once: the frames are views of the cache, valid until its next update.
    out.text(q.format === "csv" ? text.csvHeader() : f.open);
    let records = 0;
    for (const frame of frames) {
      if (frameBodyType(frame, 0) === Body.Heartbeat) continue;
      if (records++ > 0 && f.sep !== "") out.text(f.sep);
      if (q.format === "csv") out.text(text.csv(frame, 0));
      else {
        out.frameJson(frame, 0);
        out.text(f.end);
      }
    }
    out.text(f.close);
  }

  private async symbols(q: DataQuery, stream: HttpStream, grant: FeedGrant | undefined): Promise<void> {
    const table = this.symbolTable;
    await table.update(this.o.newestSeq());
    const allow = grant?.allow;
    const entitled = allow === undefined ? table.symbols() : table.symbols().filter((s) => allow(s.symbol));
    const rows = entitled.map((s) => ({
      symbol: s.symbol,
      first_seq: s.firstSeq,
      last_seq: s.lastSeq,
      first_time: isoTime(s.firstTsHi, s.firstTsLo),
      last_time: isoTime(s.lastTsHi, s.lastTsLo),
      ticks: s.trades + s.quotes + s.books + s.bars,
      trades: s.trades,
      quotes: s.quotes,
      books: s.books,
      bars: s.bars,
    }));
    stream.start(CONTENT_TYPE[q.format], {
      "x-tickring-as-of-seq": String(table.asOfSeq),
      "x-tickring-unread-seqs": String(table.unreadSeqs),
    });
    const out = stream.chunks;
    if (q.format === "json") {
      out.text(
        JSON.stringify({
          as_of_seq: table.asOfSeq,
          truncated: table.truncated,
          unread_seqs: table.unreadSeqs,
          symbols: rows,
        }) + "\n",
      );
    } else if (q.format === "ndjson") {
      out.text(rows.map((r) => JSON.stringify(r) + "\n").join(""));
    } else {
      const lines = rows.map((r) => [csvField(r.symbol), ...Object.values(r).slice(1)].join(","));
      out.text([SYMBOL_COLUMNS.join(","), ...lines].join("\n") + "\n");
    }
  }
}

/** The CSV columns of `/v1/symbols`, in the order of its JSON objects' fields. */
const SYMBOL_COLUMNS = [
  "symbol",
  "first_seq",
  "last_seq",
  "first_time",
  "last_time",
  "ticks",
  "trades",
  "quotes",
  "books",
  "bars",
];

/** The seqs an answer covers, for clients that resume or page: the range resolved, before any filter. */
function rangeHeaders(range: SeqRange): Record<string, string> {
  return { "x-tickring-from-seq": String(range.fromSeq), "x-tickring-to-seq": String(range.toSeq) };
}
