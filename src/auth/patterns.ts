/**
 * The symbol patterns of a token's entitlements: an exact symbol (`AAPL`), `*` (every symbol), or a prefix
 * wildcard ending in `*` (`FX:*`: every symbol that starts with `FX:`). A `*` anywhere but at the end is
 * refused, so `A*B` cannot be mistaken for a glob; a trailing `*` is always a wildcard.
 */
import { symbolProblem } from "../frame/symbol-rules.js";

/** Why `pattern` is not a symbol pattern, or undefined when it is one. */
export function patternProblem(pattern: unknown): string | undefined {
  if (typeof pattern !== "string") return "is not a string";
  if (pattern === "*") return undefined;
  const star = pattern.indexOf("*");
  if (star >= 0 && star !== pattern.length - 1) {
    return "has a * before its end: patterns are symbols, * alone, or a prefix ending in *";
  }
  return symbolProblem(star < 0 ? pattern : pattern.slice(0, -1));
}

/** A checked list of symbol patterns; {@link allows} answers for one symbol. */
export class SymbolPatterns {
  /** Every symbol (`*` is in the list). */
  readonly all: boolean;
  private readonly exact: Set<string>;
  private readonly prefixes: string[];

  /** @param patterns checked with {@link patternProblem} by the caller. */
  constructor(readonly patterns: readonly string[]) {
    this.all = patterns.includes("*");
    this.exact = new Set(patterns.filter((p) => !p.endsWith("*")));
    this.prefixes = patterns.filter((p) => p.endsWith("*") && p !== "*").map((p) => p.slice(0, -1));
  }

  /** No symbol at all. */
  get none(): boolean {
    return this.patterns.length === 0;
  }

  allows(symbol: string): boolean {
    if (this.all || this.exact.has(symbol)) return true;
    for (const p of this.prefixes) if (symbol.startsWith(p)) return true;
    return false;
  }

  /** Whether every symbol `other` allows, this allows too. */
  covers(other: SymbolPatterns): boolean {
    if (this.all) return true;
    if (other.all) return false;
    for (const s of other.exact) if (!this.allows(s)) return false;
    return other.prefixes.every((q) => this.prefixes.some((p) => q.startsWith(p)));
  }

  /** The patterns as a client reads them in a message: `AAPL, MSFT, FX:*`, or `none`. */
  toString(): string {
    return this.none ? "none" : this.patterns.join(", ");
  }
}
