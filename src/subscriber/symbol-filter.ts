/**
 * Which frames a subscription wants, decided in place: the symbol key first (a hash of the frame's symbol
 * bytes, computed once per frame by the fan-out), then the symbol's bytes, because two symbols may share a
 * key. The frame's `instrument_id` plays no part: a publisher may set it to anything. Allocates nothing per
 * frame.
 */
import { frameSymbolKey, frameSymbolSpan, symbolKeyOf } from "../frame/codec.js";

const encoder = new TextEncoder();

export class SymbolFilter {
  /** Symbol bytes by symbol key (more than one where keys collide), or null for every symbol. */
  readonly symbols: Map<number, Uint8Array[]> | null;
  private readonly span = new Int32Array(2);

  /** @param symbols the symbols, or null for all (`["*"]`). */
  constructor(symbols: readonly string[] | null) {
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

  /** Whether the frame at `bytes[off]` is one of the symbols; `key` is its {@link frameSymbolKey} when known. */
  matches(bytes: Uint8Array, off: number, key = frameSymbolKey(bytes, off)): boolean {
    if (this.symbols === null) return true;
    const wanted = this.symbols.get(key);
    if (wanted === undefined) return false;
    frameSymbolSpan(bytes, off, this.span);
    const at = this.span[0];
    const len = this.span[1];
    for (let w = 0; w < wanted.length; w++) {
      const want = wanted[w];
      if (want.length !== len) continue;
      let i = 0;
      while (i < len && bytes[at + i] === want[i]) i++;
      if (i === len) return true;
    }
    return false;
  }
}
