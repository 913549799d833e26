/**
 * The charts' colours, read from the style sheet's custom properties (light and dark follow the browser's
 * `prefers-color-scheme`), and a hook for when the browser switches.
 */

/** Colours of the current theme. */
export interface Palette {
  background: string;
  text: string;
  muted: string;
  grid: string;
  accent: string;
  accent2: string;
  up: string;
  down: string;
  /** The same, faint: volume bars under the candles. */
  upFaint: string;
  downFaint: string;
}

/** The current theme's colours. */
export function palette(): Palette {
  const s = getComputedStyle(document.documentElement);
  const v = (name: string) => s.getPropertyValue(name).trim();
  return {
    background: v("--panel"),
    text: v("--fg"),
    muted: v("--muted"),
    grid: v("--grid"),
    accent: v("--accent"),
    accent2: v("--accent-2"),
    up: v("--up"),
    down: v("--down"),
    upFaint: v("--up-faint"),
    downFaint: v("--down-faint"),
  };
}

/** Calls `fn` whenever the browser switches between light and dark. */
export function onThemeChange(fn: () => void): void {
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", fn);
}
