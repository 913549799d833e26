/**
 * The operations panels, drawn from a {@link StatsView} once per `/v1/stats` reading: the headline figures,
 * the throughput and fsync charts, the workers table, WAL and storage, and replication when the daemon
 * runs in a replication group.
 */
import { byId, make, setText } from "./dom.js";
import * as fmt from "./format.js";
import { LineChart } from "./line-chart.js";
import { SeriesWindow } from "./series.js";
import type { StatsView, WorkerView } from "./stats.js";

/** Five minutes of one-second readings. */
const WINDOW_POINTS = 300;

/** The workers table's columns: header cells are in the page, in this order. */
const WORKER_CELLS: ((w: WorkerView) => string)[] = [
  (w) => String(w.index),
  (w) => fmt.count(w.clients),
  (w) => fmt.count(w.subscriptions),
  (w) => fmt.bytes(w.ringLagBytes),
  (w) => fmt.compact(w.framesPerSec),
  (w) => (w.bytesPerSec === null ? fmt.NONE : `${fmt.bytes(w.bytesPerSec)}/s`),
  (w) => fmt.count(w.drops),
  (w) => fmt.count(w.conflated),
  (w) => fmt.count(w.disconnects),
];

export class StatsPanels {
  private readonly throughput = new SeriesWindow(WINDOW_POINTS, 2);
  private readonly fsync = new SeriesWindow(WINDOW_POINTS, 2);
  private readonly throughputChart: LineChart;
  private readonly fsyncChart: LineChart;
  private readonly workerRows: HTMLTableCellElement[][] = [];

  constructor() {
    this.throughputChart = new LineChart(
      byId("rate-chart"),
      [
        { label: "ingest ticks/s", color: "accent" },
        { label: "frames sent/s", color: "accent2" },
      ],
      fmt.compact,
      WINDOW_POINTS,
    );
    this.fsyncChart = new LineChart(
      byId("fsync-chart"),
      [
        { label: "fsync p50", color: "accent" },
        { label: "fsync p99", color: "down" },
      ],
      fmt.millis,
      WINDOW_POINTS,
      120,
    );
  }

  /** Draws one reading. */
  draw(v: StatsView): void {
    setText(byId("k-ingest"), `${fmt.compact(v.ingestPerSec)}/s`);
    setText(byId("k-acked"), fmt.count(v.ackedSeq));
    setText(byId("k-indexed"), fmt.count(v.indexedSeq));
    setText(byId("k-index-lag"), v.indexLag === 0 ? "caught up" : `${fmt.count(v.indexLag)} behind`);
    setText(byId("k-clients"), fmt.count(v.clients));
    setText(byId("k-subscriptions"), fmt.count(v.subscriptions));
    setText(byId("k-sent"), `${fmt.compact(v.framesPerSec)}/s`);
    setText(byId("k-sent-bytes"), v.bytesPerSec === null ? fmt.NONE : `${fmt.bytes(v.bytesPerSec)}/s`);
    this.drawWorkers(v.workers);
    this.drawStorage(v);
    this.drawReplication(v);
    this.throughput.push(v.at, [v.ingestPerSec, v.framesPerSec]);
    this.throughputChart.setData(this.throughput.data());
    this.fsync.push(v.at, [v.wal.fsyncP50Ms, v.wal.fsyncP99Ms]);
    this.fsyncChart.setData(this.fsync.data());
  }

  private drawWorkers(workers: WorkerView[]): void {
    const body = byId<HTMLTableSectionElement>("workers-body");
    while (this.workerRows.length < workers.length) {
      const tr = make("tr");
      this.workerRows.push(WORKER_CELLS.map(() => tr.appendChild(make("td"))));
      body.appendChild(tr);
    }
    while (this.workerRows.length > workers.length) {
      this.workerRows.pop();
      body.lastElementChild?.remove();
    }
    workers.forEach((w, i) => WORKER_CELLS.forEach((cell, c) => setText(this.workerRows[i][c], cell(w))));
  }

  private drawStorage(v: StatsView): void {
    setText(byId("w-p50"), fmt.millis(v.wal.fsyncP50Ms));
    setText(byId("w-p99"), fmt.millis(v.wal.fsyncP99Ms));
    setText(byId("w-segments"), fmt.count(v.wal.segments));
    setText(byId("w-bytes"), fmt.bytes(v.wal.bytes));
    setText(byId("w-used"), fmt.bytes(v.disk?.usedBytes ?? null));
    setText(byId("w-free"), fmt.bytes(v.disk?.freeBytes ?? null));
    const r = v.retention;
    setText(byId("w-oldest-seq"), r === null ? fmt.NONE : fmt.count(r.oldestSeq));
    setText(byId("w-window"), r === null ? fmt.NONE : fmt.duration(r.ageMs));
    byId("w-window").title = r === null ? "" : `oldest frame received ${r.oldestTime}`;
  }

  private drawReplication(v: StatsView): void {
    const panel = byId("replication-panel");
    const r = v.replication;
    panel.hidden = r === null;
    if (r === null) return;
    setText(byId("r-role"), r.role);
    setText(byId("r-node"), r.node);
    setText(byId("r-stream"), r.stream);
    setText(byId("r-leader"), r.leader ?? fmt.NONE);
    setText(byId("r-ack-after"), r.ackAfter);
    setText(byId("r-seq"), fmt.count(r.replicatedSeq));
    const lag = r.lagMs < 10_000 ? fmt.millis(r.lagMs) : fmt.duration(r.lagMs);
    setText(byId("r-lag"), `${fmt.count(r.lagSeqs)} seqs · ${lag}`);
  }
}
