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
 * `from`/`to` are a seq or an ISO time compared with ts_recv, as on the WebSocket. Answers stream in chunks
 * (chunked transfer), each written once the client took the last: memory per answer is a read buffer and a
 * chunk, whatever the range ({@link HttpStream}). Bad parameters get 400 with a stable code; at most
 * `maxStreams` answers stream at once per worker (then 429 `LIMIT_REACHED`).
 *
 * Rendering happens here, in place: bench/http measured it against handing batches to a piscina pool and
 * in place was faster on this machine (see bench/README.md, "HTTP history").
 */
import type { IncidentLogger } from "../errors.js";
import { TickringError } from "../errors.js";
import { Body, frameBodyType, symbolKeyOf } from "../frame/codec.js";
import type { HttpSink } from "../transport/http-sink.js";
import { BarQuery } from "./bar-query.js";
import { FrameFilter } from "./frame-filter.js";
import { BAR_COLUMNS, barCsv, barJson, CONTENT_TYPE, csvField, FrameText } from "./frame-text.js";
import type { HistorySources } from "./history.js";
import { type DataQuery, parseDataQuery, type QueryRules } from "./http-query.js";
import { HttpStream } from "./http-stream.js";
import type { LastValueCache } from "./last-value-cache.js";
import { FRAMING, renderHistory } from "./history-text.js";
import { resolveRange, scanRange, type SeqRange } from "./seq-range.js";
import { isoTime, SymbolTable } from "./symbol-table.js";

/** What an {@link HttpHistory} is built from. */
export interface HttpHistoryOptions {
  history: HistorySources;
  /** The worker's last values (the real-time feed's). */
  lastValues: LastValueCache;
  /** The newest seq the sequencer has written (and the worker fanned out, if higher). */
  newestSeq(): number;
  /** Answers streaming at once in this worker, at most. */
  maxStreams: number;
  log: IncidentLogger;
}

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
  private streams = 0;
  private readonly symbolTable: SymbolTable;

  constructor(private readonly o: HttpHistoryOptions) {
    this.symbolTable = new SymbolTable(o.history);
  }

  /** Answers `GET path?query` on `res`; never throws (errors are answers). */
  serve(path: string, query: string, res: HttpSink): void {
    const stream = new HttpStream(res, this.o.log);
    let q: DataQuery;
    try {
      q = parseDataQuery(query, RULES[path]);
      if (this.streams >= this.o.maxStreams) {
        throw new TickringError("LIMIT_REACHED", "this server streams as many answers as it can: try later");
      }
    } catch (err) {
      stream.fail(err);
      return;
    }
    this.streams++;
    this.answer(path, q, stream)
      .catch((err: unknown) => stream.fail(err))
      .finally(() => this.streams--);
  }

  private answer(path: string, q: DataQuery, stream: HttpStream): Promise<void> {
    switch (path) {
      case "/v1/history":
        return this.history(q, stream);
      case "/v1/bars":
        return this.bars(q, stream);
      case "/v1/last":
        return Promise.resolve(this.last(q, stream));
      default:
        return this.symbols(q, stream);
    }
  }

  private async range(q: DataQuery): Promise<SeqRange> {
    return resolveRange(this.o.history, q.from!, q.to, this.o.newestSeq());
  }

  private async history(q: DataQuery, stream: HttpStream): Promise<void> {
    const range = await this.range(q);
    stream.start(CONTENT_TYPE[q.format], rangeHeaders(range));
    await renderHistory(
      this.o.history,
      range,
      q,
      (text) => stream.add(text),
      () => stream.aborted,
    );
    stream.end();
  }

  private async bars(q: DataQuery, stream: HttpStream): Promise<void> {
    const range = await this.range(q);
    const trades = new FrameFilter(q.symbols, ["trade"]);
    const f = FRAMING[q.format];
    let n = 0;
    const query = new BarQuery(q.intervalNs, (symbol, endNs, bar, revision) => {
      if (n >= q.limit || stream.aborted) return undefined;
      const record =
        q.format === "csv"
          ? barCsv(symbol.csv, q.intervalNs, endNs, bar, revision)
          : barJson(symbol.json, q.intervalNs, endNs, bar, revision);
      return stream.add(n++ === 0 ? record + f.end : f.sep + record + f.end);
    });
    stream.start(CONTENT_TYPE[q.format], {
      ...rangeHeaders(range),
      "x-tickring-bar-window-ns": String(query.windowNs),
    });
    stream.add(q.format === "csv" ? BAR_COLUMNS.join(",") + "\n" : f.open);
    /** One pass over the range's trades, waiting for the client whenever it is behind. */
    const pass = (add: (bytes: Uint8Array, off: number) => Promise<void> | undefined) =>
      scanRange(this.o.history, range, (bytes, off) => {
        if (stream.aborted || n >= q.limit) return false;
        if (!trades.matches(bytes, off)) return true;
        const wait = add(bytes, off);
        return wait === undefined ? true : wait.then(() => !stream.aborted);
      });
    await pass((bytes, off) => query.add(bytes, off));
    await query.finish();
    if (query.needsSecondPass && n < q.limit) {
      await pass((bytes, off) => {
        query.addAgain(bytes, off);
        return undefined;
      });
      await query.finishAgain();
    }
    stream.end(f.close);
  }

  private last(q: DataQuery, stream: HttpStream): void {
    const frames: Uint8Array[] = [];
    const lvc = this.o.lastValues;
    if (q.symbols === null) frames.push(...lvc.all());
    else
      for (const s of new Set(q.symbols))
        lvc.collectSymbol(symbolKeyOf(s), new TextEncoder().encode(s), frames);
    const filter = new FrameFilter(q.symbols, q.types, q.bars);
    const text = new FrameText(q.types);
    const f = FRAMING[q.format];
    const records = frames
      .filter((frame) => frameBodyType(frame, 0) !== Body.Heartbeat && filter.matches(frame, 0))
      .map((frame) => (q.format === "csv" ? text.csv(frame, 0) : text.json(frame, 0) + f.end));
    stream.start(CONTENT_TYPE[q.format]);
    stream.end((q.format === "csv" ? text.csvHeader() : f.open) + records.join(f.sep) + f.close);
  }

  private async symbols(q: DataQuery, stream: HttpStream): Promise<void> {
    const table = this.symbolTable;
    await table.update(this.o.newestSeq());
    const rows = table.symbols().map((s) => ({
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
    stream.start(CONTENT_TYPE[q.format], { "x-tickring-as-of-seq": String(table.asOfSeq) });
    if (q.format === "json") {
      stream.end(
        JSON.stringify({ as_of_seq: table.asOfSeq, truncated: table.truncated, symbols: rows }) + "\n",
      );
    } else if (q.format === "ndjson") {
      stream.end(rows.map((r) => JSON.stringify(r) + "\n").join(""));
    } else {
      const lines = rows.map((r) => [csvField(r.symbol), ...Object.values(r).slice(1)].join(","));
      stream.end([SYMBOL_COLUMNS.join(","), ...lines].join("\n") + "\n");
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
