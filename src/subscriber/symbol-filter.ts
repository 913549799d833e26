/**
 * Which frames a subscription wants, decided in place: the symbol key first (a hash of the frame's symbol
 * bytes, computed once per frame by the fan-out), then the symbol's bytes, because two symbols may share a
 * key. The frame's `instrument_id` plays no part: a publisher may set it to anything. Allocates nothing per
 * frame.
 *
 * A subscription to every symbol may still be held to some of them (`allow`: its token's entitlement). The
 * verdict is asked once per symbol and kept by symbol key, like the wanted symbols, so matching such a frame
 * costs what matching a named symbol does.
 */
import { frameSymbolKey, frameSymbolSpan, symbolKeyOf } from "../frame/codec.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** Verdicts of `allow` kept per filter: past this many symbols they are asked again (memory stays bounded). */
const MAX_VERDICTS = 100_000;

/** Which symbols a subscription to every symbol may see; asked once per symbol. */
export type SymbolAllow = (symbol: string) => boolean;

export class SymbolFilter {
  /** Symbol bytes by symbol key (more than one where keys collide), or null for every symbol. */
  readonly symbols: Map<number, Uint8Array[]> | null;
  private readonly span = new Int32Array(2);
  /** Symbols `allow` let through, and those it did not, by symbol key. */
  private readonly allowed = new Map<number, Uint8Array[]>();
  private readonly withheld = new Map<number, Uint8Array[]>();

  /**
   * @param symbols the symbols, or null for all (`["*"]`).
   * @param allow for all symbols: those that may be seen; undefined = every one.
   */
  constructor(
    symbols: readonly string[] | null,
    private readonly allow?: SymbolAllow,
  ) {
    if (symbols === null) {
      this.symbols = null;
      return;
    }
    this.symbols = new Map();
    for (const s of new Set(symbols)) {
      const key = symbolKeyOf(s);
      const list = this.symbols.get(key);
      if (list === undefined) this.symbols.set(key, [encoder.encode(s)]);
      else list.push(encoder.encode(s));
    }
  }

  /** True when every frame matches: the fan-out may then skip matching. */
  get takesAll(): boolean {
    return this.symbols === null && this.allow === undefined;
  }

  /** Whether the frame at `bytes[off]` is one of the symbols; `key` is its {@link frameSymbolKey} when known. */
  matches(bytes: Uint8Array, off: number, key = frameSymbolKey(bytes, off)): boolean {
    if (this.symbols === null) return this.allow === undefined || this.allows(bytes, off, key);
    const wanted = this.symbols.get(key);
    if (wanted === undefined) return false;
    frameSymbolSpan(bytes, off, this.span);
    return holds(wanted, bytes, this.span[0], this.span[1]);
  }

  /** The verdict of `allow` on the frame's symbol: asked on the first frame of each symbol, then kept. */
  private allows(bytes: Uint8Array, off: number, key: number): boolean {
    frameSymbolSpan(bytes, off, this.span);
    const at = this.span[0];
    const len = this.span[1];
    const yes = this.allowed.get(key);
    if (yes !== undefined && holds(yes, bytes, at, len)) return true;
    const no = this.withheld.get(key);
    if (no !== undefined && holds(no, bytes, at, len)) return false;
    if (this.allowed.size + this.withheld.size >= MAX_VERDICTS) {
      this.allowed.clear();
      this.withheld.clear();
    }
    const symbol = bytes.slice(at, at + len);
    const verdict = this.allow!(decoder.decode(symbol));
    const verdicts = verdict ? this.allowed : this.withheld;
    const list = verdicts.get(key);
    if (list === undefined) verdicts.set(key, [symbol]);
    else list.push(symbol);
    return verdict;
  }
}

/** Whether `list` holds the symbol `bytes[at … at + len)`. */
function holds(list: Uint8Array[], bytes: Uint8Array, at: number, len: number): boolean {
  for (let w = 0; w < list.length; w++) {
    const want = list[w];
    if (want.length !== len) continue;
    let i = 0;
    while (i < len && bytes[at + i] === want[i]) i++;
    if (i === len) return true;
  }
  return false;
}
