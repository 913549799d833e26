/**
 * The symbols table: one row per symbol, sortable by any column (the header buttons; again to reverse),
 * filtered by the search box, a symbol's button choosing it for the chart. Drawn from the
 * {@link SymbolTable} a few times a second at most, and only when something changed: rows are made once per
 * symbol, moved only when the order changes, and only the rows in sight of the table's scroll box are
 * written, a cell only when its text changed — at 10K ticks/s every figure moves between two draws, and the
 * rows out of sight were two thirds of the table's layout and paint (bench/dashboard).
 */
import { byId, make, setText } from "./dom.js";
import * as fmt from "./format.js";
import type { SortKey, SymbolRow, SymbolTable } from "./symbols.js";

interface RowCells {
  tr: HTMLTableRowElement;
  filled: boolean;
  button: HTMLButtonElement;
  last: HTMLTableCellElement;
  change: HTMLTableCellElement;
  changePct: HTMLTableCellElement;
  bidAsk: HTMLTableCellElement;
  rate: HTMLTableCellElement;
}

export class SymbolsPanel {
  private readonly body = byId<HTMLTableSectionElement>("symbols-body");
  private readonly filter = byId<HTMLInputElement>("symbols-filter");
  private readonly cells = new Map<string, RowCells>();
  /** Symbols whose row is in (or near) the scroll box's view. */
  private readonly inSight = new Set<string>();
  private readonly sight: IntersectionObserver;
  /** By symbol at first: a live figure would reorder the rows at every draw. */
  private sort: SortKey = "symbol";
  private descending = false;
  private chosen: string | undefined;
  /** What the last draw showed: table version, sort, filter, choice. */
  private drawn = "";
  private order: string[] = [];

  constructor(
    private readonly table: SymbolTable,
    private readonly onPick: (symbol: string) => void,
  ) {
    for (const b of document.querySelectorAll<HTMLButtonElement>("#symbols-table th button[data-sort]")) {
      b.addEventListener("click", () => this.sortBy(b.dataset.sort as SortKey));
    }
    this.filter.addEventListener("input", () => this.draw());
    this.showSort();
    this.sight = new IntersectionObserver(
      (entries) => {
        for (const e of entries) {
          const symbol = (e.target as HTMLElement).dataset.symbol!;
          if (e.isIntersecting) this.inSight.add(symbol);
          else this.inSight.delete(symbol);
        }
        // Rows that came into sight get their figures at the next draw.
        this.drawn = "";
      },
      { root: this.body.closest(".scroll"), rootMargin: "100px 0px" },
    );
  }

  /** Marks `symbol` as the chart's. */
  choose(symbol: string): void {
    this.chosen = symbol;
    this.draw();
  }

  /** Brings the table up to date with the model, if it changed since the last draw. */
  draw(): void {
    const state = `${this.table.version}|${this.sort}|${this.descending}|${this.filter.value}|${this.chosen}`;
    if (state === this.drawn) return;
    this.drawn = state;
    const rows = this.table.view(this.sort, this.descending, this.filter.value);
    const order = rows.map((r) => r.symbol);
    if (order.join("\n") !== this.order.join("\n")) {
      // Moving a row takes the focus off its button: give it back, so a keyboard user stays put.
      const focused = document.activeElement;
      this.body.replaceChildren(...rows.map((r) => this.cellsOf(r.symbol).tr));
      if (
        focused instanceof HTMLElement &&
        focused !== document.activeElement &&
        this.body.contains(focused)
      ) {
        focused.focus({ preventScroll: true });
      }
      this.order = order;
    }
    for (const r of rows) {
      const c = this.cellsOf(r.symbol);
      // A new row is filled at once, before the observer has said whether it is in sight.
      if (this.inSight.has(r.symbol) || !c.filled) this.fill(c, r);
    }
    setText(byId("symbols-count"), `${rows.length} of ${this.table.size}`);
  }

  private sortBy(key: SortKey): void {
    if (key === this.sort) this.descending = !this.descending;
    else {
      this.sort = key;
      this.descending = key !== "symbol";
    }
    this.showSort();
    this.draw();
  }

  /** `aria-sort` on the sorted column's header, for screen readers and the style sheet's arrow. */
  private showSort(): void {
    for (const th of document.querySelectorAll<HTMLTableCellElement>("#symbols-table th[data-key]")) {
      if (th.dataset.key === this.sort)
        th.setAttribute("aria-sort", this.descending ? "descending" : "ascending");
      else th.removeAttribute("aria-sort");
    }
  }

  private cellsOf(symbol: string): RowCells {
    let c = this.cells.get(symbol);
    if (c !== undefined) return c;
    const tr = make("tr");
    tr.dataset.symbol = symbol;
    this.sight.observe(tr);
    const th = tr.appendChild(make("th"));
    th.scope = "row";
    const button = th.appendChild(make("button", "pick", symbol));
    button.type = "button";
    button.addEventListener("click", () => this.onPick(symbol));
    const td = (cls: string) => tr.appendChild(make("td", cls));
    c = {
      tr,
      filled: false,
      button,
      last: td("num"),
      change: td("num"),
      changePct: td("num"),
      bidAsk: td("num wide"),
      rate: td("num"),
    };
    this.cells.set(symbol, c);
    return c;
  }

  private fill(c: RowCells, r: SymbolRow): void {
    c.filled = true;
    setText(c.last, fmt.price(r.last));
    setText(c.change, fmt.signed(r.change));
    setText(c.changePct, r.changePct === null ? fmt.NONE : `${fmt.signed(r.changePct)}%`);
    setText(c.bidAsk, `${fmt.price(r.bid)} / ${fmt.price(r.ask)}`);
    setText(c.rate, fmt.compact(r.ticksPerSec));
    const dir = r.change === null || r.change === 0 ? "" : r.change > 0 ? "up" : "down";
    if (c.tr.dataset.dir !== dir) c.tr.dataset.dir = dir;
    const chosen = r.symbol === this.chosen;
    if (c.button.getAttribute("aria-pressed") !== String(chosen))
      c.button.setAttribute("aria-pressed", String(chosen));
  }
}
