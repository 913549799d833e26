/**
 * Which frames a subscription wants, decided in place: instrument id first (a number in the frame), then
 * the symbol's bytes, because two symbols may share an id (a hash). Allocates nothing per frame.
 */
import { frameInstrumentId, frameSymbolSpan, instrumentIdOf } from "../frame/codec.js";

const encoder = new TextEncoder();

export class SymbolFilter {
  /** Symbol bytes by instrument id, or null for every symbol. */
  readonly symbols: Map<number, Uint8Array> | null;
  private readonly span = new Int32Array(2);

  /** @param symbols the symbols, or null for all (`["*"]`). */
  constructor(symbols: string[] | null) {
    this.symbols =
      symbols === null ? null : new Map(symbols.map((s) => [instrumentIdOf(s), encoder.encode(s)]));
  }

  /** Whether the frame at `bytes[off]` is one of the symbols. */
  matches(bytes: Uint8Array, off: number): boolean {
    if (this.symbols === null) return true;
    const want = this.symbols.get(frameInstrumentId(bytes, off));
    if (want === undefined) return false;
    frameSymbolSpan(bytes, off, this.span);
    if (this.span[1] !== want.length) return false;
    const at = this.span[0];
    for (let i = 0; i < want.length; i++) if (bytes[at + i] !== want[i]) return false;
    return true;
  }
}
