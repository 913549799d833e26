/**
 * The trades tape beside the chart: the chosen symbol's last trades, newest first, drawn from the
 * {@link TradeTape} a few times a second at most. Its rows are made once and only their text changes.
 */
import { byId, make, setText } from "./dom.js";
import * as fmt from "./format.js";
import type { TradeTape } from "./tape.js";

interface TapeRow {
  li: HTMLLIElement;
  time: HTMLSpanElement;
  price: HTMLSpanElement;
  size: HTMLSpanElement;
}

export class TapePanel {
  private readonly list = byId<HTMLOListElement>("tape");
  private readonly rows: TapeRow[] = [];
  private drawn = -1;

  constructor(private readonly tape: TradeTape) {
    for (let i = 0; i < tape.capacity; i++) {
      const li = make("li");
      li.hidden = true;
      const row = {
        li,
        time: li.appendChild(make("span", "time")),
        price: li.appendChild(make("span", "num")),
        size: li.appendChild(make("span", "num")),
      };
      this.rows.push(row);
      this.list.appendChild(li);
    }
  }

  /** Brings the tape up to date, if a trade came since the last draw. */
  draw(): void {
    if (this.tape.version === this.drawn) return;
    this.drawn = this.tape.version;
    const trades = this.tape.trades();
    this.rows.forEach((row, i) => {
      const t = trades[i];
      row.li.hidden = t === undefined;
      if (t === undefined) return;
      setText(row.time, fmt.clock(t.time));
      setText(row.price, fmt.price(t.price));
      setText(row.size, fmt.count(t.size));
      const side = t.aggressor ?? "";
      if (row.li.dataset.side !== side) row.li.dataset.side = side;
    });
  }
}
