/**
 * An in-process {@link Socket}: records every message the feeds send (fragments joined into their message),
 * so the feeds, replays and the ring pump can be tested without a network. `buffered` stands for bytes
 * uWS would hold unsent; tests set it to act as a slow client.
 */
import { frameLength, frameSeq } from "../../src/frame/codec.js";
import type { Socket } from "../../src/transport/socket.js";

export class FakeSocket implements Socket {
  readonly binary: Uint8Array[] = [];
  /** Text messages parsed; a JSON run (an array of frame objects) adds each of its frames. */
  readonly text: Record<string, unknown>[] = [];
  buffered = 0;
  closed: { code: number; reason: string } | undefined;
  private fragments: Uint8Array[] | undefined;
  private fragmentsBinary = true;

  send(data: Uint8Array | string, isBinary: boolean): number {
    if (isBinary) this.binary.push(Uint8Array.from(data as Uint8Array));
    else this.addText(typeof data === "string" ? data : new TextDecoder().decode(data));
    return 1;
  }
  sendFirstFragment(data: Uint8Array, isBinary = true): number {
    this.fragments = [Uint8Array.from(data)];
    this.fragmentsBinary = isBinary;
    return 1;
  }
  sendFragment(data: Uint8Array): number {
    this.fragments!.push(Uint8Array.from(data));
    return 1;
  }
  sendLastFragment(data: Uint8Array): number {
    this.fragments!.push(Uint8Array.from(data));
    const message = Buffer.concat(this.fragments!);
    if (this.fragmentsBinary) this.binary.push(message);
    else this.addText(message.toString("utf8"));
    this.fragments = undefined;
    return 1;
  }
  private addText(message: string): void {
    const value = JSON.parse(message) as Record<string, unknown> | Record<string, unknown>[];
    if (Array.isArray(value)) this.text.push(...value);
    else this.text.push(value);
  }
  cork(fn: () => void): this {
    fn();
    return this;
  }
  /** Every data frame's seq, in the order the socket got them. */
  seqs(): number[] {
    const out: number[] = [];
    for (const m of this.binary)
      for (let off = 0; off < m.length; off += frameLength(m, off)) out.push(frameSeq(m, off));
    return out;
  }

  getBufferedAmount(): number {
    return this.buffered;
  }
  end(code: number, reason: string): void {
    this.closed = { code, reason };
  }
  close(): void {
    this.closed = { code: 1006, reason: "" };
  }
}
