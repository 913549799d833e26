/**
 * A map from a frame's symbol to a value of the caller's, looked up in place: by the symbol key (a hash of
 * the frame's symbol bytes) and then the bytes, since two symbols may share a key. A known symbol costs a
 * hash and a byte compare, no allocation; a new one is decoded once and given to `make`.
 */
import { frameHasSymbol, frameSymbolKey, frameSymbolSpan } from "./codec.js";

interface Entry<T> {
  readonly bytes: Uint8Array;
  readonly value: T;
  next: Entry<T> | undefined;
}

const decoder = new TextDecoder();

export class SymbolMap<T> {
  private readonly map = new Map<number, Entry<T>>();
  private readonly list: T[] = [];
  private readonly span = new Int32Array(2);

  /** @param make the value of a symbol seen for the first time, from its text and the frame at `frame[off]`. */
  constructor(private readonly make: (symbol: string, frame: Uint8Array, off: number) => T) {}

  /** The value of the frame at `bytes[off]`'s symbol, made on first sight. */
  of(bytes: Uint8Array, off: number): T {
    return this.find(bytes, off) ?? this.add(bytes, off);
  }

  /** The value of the frame at `bytes[off]`'s symbol, if it has one. */
  find(bytes: Uint8Array, off: number): T | undefined {
    for (let e = this.map.get(frameSymbolKey(bytes, off)); e !== undefined; e = e.next) {
      if (frameHasSymbol(bytes, off, e.bytes)) return e.value;
    }
    return undefined;
  }

  private add(bytes: Uint8Array, off: number): T {
    const key = frameSymbolKey(bytes, off);
    const head = this.map.get(key);
    frameSymbolSpan(bytes, off, this.span);
    // A copy: `bytes` may be a Buffer, whose slice() is a view of a buffer its reader reuses.
    const own = Uint8Array.from(bytes.subarray(this.span[0], this.span[0] + this.span[1]));
    const value = this.make(decoder.decode(own), bytes, off);
    this.map.set(key, { bytes: own, value, next: head });
    this.list.push(value);
    return value;
  }

  /** Every value, in the order their symbols were first seen. */
  values(): readonly T[] {
    return this.list;
  }

  /** Symbols known. */
  get size(): number {
    return this.list.length;
  }
}
