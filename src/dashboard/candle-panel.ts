/**
 * The chosen symbol's candlestick chart (TradingView's lightweight-charts) with its volume beneath: filled
 * from `GET /v1/bars` when a symbol or an interval is chosen, then live from the feed's bar frames and
 * trades ({@link CandleSeries}). Frames only update the model; the chart takes the changes when the page
 * draws. The chart's own attribution logo is off (it injects an inline style the page's CSP refuses): the
 * page's footer carries the attribution the library's licence asks for.
 */
import {
  CandlestickSeries,
  createChart,
  HistogramSeries,
  type IChartApi,
  type ISeriesApi,
  type UTCTimestamp,
} from "lightweight-charts";
import { type BarRow, type Candle, CandleSeries } from "./candles.js";
import { byId, setText } from "./dom.js";
import { hhmmss } from "./format.js";
import { allows, grantsOf } from "./grants.js";
import type { FrameJson } from "./frames.js";
import { onThemeChange, palette } from "./theme.js";

/** How many candles of history a chosen symbol starts with, per interval (seconds). */
const HISTORY_CANDLES: Record<number, number> = { 1: 300, 60: 120 };

/** What the panel needs of the page: the token, and what to do when the daemon refuses it. */
export interface CandleAccess {
  token(): string | undefined;
  unauthorized(message: string): void;
}

export class CandlePanel {
  private readonly container = byId("candles");
  private readonly chart: IChartApi;
  private readonly price: ISeriesApi<"Candlestick">;
  private readonly volume: ISeriesApi<"Histogram">;
  private series: CandleSeries | undefined;
  private intervalSec = 1;

  constructor(private readonly access: CandleAccess) {
    this.chart = createChart(this.container, {
      autoSize: true,
      layout: { attributionLogo: false },
      localization: { timeFormatter: (t: number) => hhmmss(t * 1000) },
      timeScale: {
        timeVisible: true,
        secondsVisible: true,
        tickMarkFormatter: (t: number) => hhmmss(t * 1000),
      },
    });
    this.price = this.chart.addSeries(CandlestickSeries, { priceLineVisible: false });
    this.volume = this.chart.addSeries(HistogramSeries, {
      priceScaleId: "",
      priceFormat: { type: "volume" },
      lastValueVisible: false,
      priceLineVisible: false,
    });
    this.volume.priceScale().applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    this.theme();
    onThemeChange(() => this.theme());
    for (const b of document.querySelectorAll<HTMLButtonElement>("#intervals button")) {
      b.addEventListener("click", () => {
        this.intervalSec = Number(b.dataset.interval);
        for (const o of document.querySelectorAll("#intervals button"))
          o.setAttribute("aria-pressed", String(o === b));
        if (this.series !== undefined) this.show(this.series.symbol);
      });
    }
  }

  /** Charts `symbol` at the chosen interval: history first, then live. */
  show(symbol: string): void {
    const series = new CandleSeries(symbol, this.intervalSec);
    this.series = series;
    this.price.setData([]);
    this.volume.setData([]);
    this.container.dataset.candles = "0";
    setText(byId("candles-note"), "");
    void this.load(series);
  }

  /** A frame of the feed. */
  onFrame(f: FrameJson): void {
    this.series?.onFrame(f);
  }

  /** Hands the model's changes to the chart. */
  draw(): void {
    const s = this.series;
    if (s === undefined) return;
    const changes = s.takeChanges();
    if (changes.all) {
      const candles = s.candles();
      this.price.setData(candles.map(bar));
      this.volume.setData(candles.map((c) => this.volumeOf(c)));
      this.container.dataset.candles = String(candles.length);
      return;
    }
    const newest = s.newestTime;
    for (const c of changes.candles) {
      // A revised bar behind the newest candle is a historical update (lightweight-charts refuses it otherwise).
      this.price.update(bar(c), c.time < newest);
      this.volume.update(this.volumeOf(c), c.time < newest);
    }
    if (changes.candles.length > 0) this.container.dataset.candles = String(s.candles().length);
  }

  private async load(series: CandleSeries): Promise<void> {
    const from = new Date(Date.now() - HISTORY_CANDLES[series.intervalSec] * series.intervalSec * 1000);
    const query = new URLSearchParams({
      symbols: series.symbol,
      interval: `${series.intervalSec}s`,
      from: from.toISOString(),
      format: "json",
    });
    const token = this.access.token();
    const history = token === undefined ? undefined : grantsOf(token).history;
    if (history !== undefined && !allows(history, series.symbol)) {
      setText(byId("candles-note"), `This token has no history of ${series.symbol}: live candles only.`);
      return;
    }
    try {
      const res = await fetch(`/v1/bars?${query}`, {
        headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
        cache: "no-store",
      });
      if (series !== this.series) return;
      if (!res.ok) {
        const body = (await res.json().catch(() => ({}))) as { message?: string };
        if (res.status === 401) this.access.unauthorized(body.message ?? "token needed");
        setText(
          byId("candles-note"),
          `No history (${res.status}): ${body.message ?? res.statusText}. Live bars only.`,
        );
        return;
      }
      const rows = (await res.json()) as BarRow[];
      if (series !== this.series) return;
      series.history(rows, Number(res.headers.get("x-tickring-to-seq") ?? 0));
    } catch (err) {
      setText(byId("candles-note"), `No history: ${(err as Error).message}. Live bars only.`);
    }
  }

  private volumeOf(c: Candle): { time: UTCTimestamp; value: number; color: string } {
    const p = palette();
    return {
      time: c.time as UTCTimestamp,
      value: c.volume,
      color: c.close >= c.open ? p.upFaint : p.downFaint,
    };
  }

  private theme(): void {
    const p = palette();
    this.chart.applyOptions({
      layout: { background: { color: p.background }, textColor: p.muted },
      grid: { vertLines: { color: p.grid }, horzLines: { color: p.grid } },
      rightPriceScale: { borderColor: p.grid },
      timeScale: { borderColor: p.grid },
    });
    this.price.applyOptions({
      upColor: p.up,
      downColor: p.down,
      borderUpColor: p.up,
      borderDownColor: p.down,
      wickUpColor: p.up,
      wickDownColor: p.down,
    });
  }
}

function bar(c: Candle): { time: UTCTimestamp; open: number; high: number; low: number; close: number } {
  return { time: c.time as UTCTimestamp, open: c.open, high: c.high, low: c.low, close: c.close };
}
