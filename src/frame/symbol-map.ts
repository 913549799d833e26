/**
 * A map from a frame's symbol to a value of the caller's, looked up in place: by the symbol key (a hash of
 * the frame's symbol bytes) and then the bytes, since two symbols may share a key. A known symbol costs a
 * hash and a byte compare, no allocation; a new one is decoded once and given to `make`.
 */
import { frameSymbolKey, frameSymbolSpan } from "./codec.js";

interface Entry<T> {
  readonly bytes: Uint8Array;
  readonly value: T;
  next: Entry<T> | undefined;
}

const decoder = new TextDecoder();

export class SymbolMap<T> {
  /** By the key as a signed 32-bit integer: a small integer to V8, where a key ≥ 2^31 would be a boxed number. */
  private readonly map = new Map<number, Entry<T>>();
  private readonly list: T[] = [];
  private readonly span = new Int32Array(2);

  /** @param make the value of a symbol seen for the first time, from its text and the frame at `frame[off]`. */
  constructor(private readonly make: (symbol: string, frame: Uint8Array, off: number) => T) {}

  /** The value of the frame at `bytes[off]`'s symbol, made on first sight. */
  of(bytes: Uint8Array, off: number): T {
    frameSymbolSpan(bytes, off, this.span);
    return this.ofSpan(bytes, this.span[0], this.span[1], frameSymbolKey(bytes, off), off);
  }

  /**
   * The value of the symbol whose bytes are `bytes[at…at+length)` and key `key` (as {@link readFrameFields}
   * gives them), made on first sight from the frame at `bytes[off]`.
   */
  ofSpan(bytes: Uint8Array, at: number, length: number, key: number, off: number): T {
    return this.findSpan(bytes, at, length, key) ?? this.add(bytes, at, length, key, off);
  }

  /** The value of the frame at `bytes[off]`'s symbol, if it has one. */
  find(bytes: Uint8Array, off: number): T | undefined {
    frameSymbolSpan(bytes, off, this.span);
    return this.findSpan(bytes, this.span[0], this.span[1], frameSymbolKey(bytes, off));
  }

  /** The value of the symbol whose bytes are `bytes[at…at+length)` and key `key`, if it has one. */
  findSpan(bytes: Uint8Array, at: number, length: number, key: number): T | undefined {
    for (let e = this.map.get(key | 0); e !== undefined; e = e.next) {
      const want = e.bytes;
      if (want.length !== length) continue;
      let i = 0;
      while (i < length && bytes[at + i] === want[i]) i++;
      if (i === length) return e.value;
    }
    return undefined;
  }

  private add(bytes: Uint8Array, at: number, length: number, key: number, off: number): T {
    const head = this.map.get(key | 0);
    // A copy: `bytes` may be a Buffer, whose slice() is a view of a buffer its reader reuses.
    const own = Uint8Array.from(bytes.subarray(at, at + length));
    const value = this.make(decoder.decode(own), bytes, off);
    this.map.set(key | 0, { bytes: own, value, next: head });
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
