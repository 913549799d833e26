/**
 * Sending frames that lie in pieces (not contiguous) as one WebSocket message, without joining them in a
 * buffer of ours: one piece is a plain send; several are fragments of one message, under one cork so they
 * leave in one write. uWS copies the bytes into the socket's buffer before returning.
 */
import type { Socket } from "../transport/socket.js";

/**
 * Sends `bytes[pieces[2i] … pieces[2i+1])` for i < n as one binary message; returns the bytes sent.
 * `sender` is the connection's {@link corkedSender}.
 */
export function sendPieces(
  ws: Socket,
  sender: PieceSender,
  bytes: Uint8Array,
  pieces: Int32Array,
  n: number,
): number {
  if (n === 1) {
    ws.send(bytes.subarray(pieces[0], pieces[1]), true);
    return pieces[1] - pieces[0];
  }
  sender.bytes = bytes;
  sender.pieces = pieces;
  sender.n = n;
  ws.cork(sender.run);
  let total = 0;
  for (let i = 0; i < n; i++) total += pieces[i * 2 + 1] - pieces[i * 2];
  return total;
}

/** The per-connection state of {@link sendPieces}: the cork callback is made once, not per message. */
export interface PieceSender {
  bytes: Uint8Array;
  pieces: Int32Array;
  n: number;
  readonly run: () => void;
}

export function corkedSender(ws: Socket): PieceSender {
  const s: PieceSender = {
    bytes: new Uint8Array(0),
    pieces: new Int32Array(0),
    n: 0,
    run: () => {
      const { bytes, pieces, n } = s;
      ws.sendFirstFragment(bytes.subarray(pieces[0], pieces[1]), true);
      for (let i = 1; i < n - 1; i++) ws.sendFragment(bytes.subarray(pieces[i * 2], pieces[i * 2 + 1]));
      ws.sendLastFragment(bytes.subarray(pieces[n * 2 - 2], pieces[n * 2 - 1]));
    },
  };
  return s;
}

/**
 * A run of JSON frames as one text message holding an array, from pieces of a run's JSON buffer laid out
 * by the fan-out: `json[0]` is `[`, the run's first record follows without a comma, every later record
 * starts with `,`, and `json[end]` is `]`. A subscriber to every frame of the run gets `json[0…end]` as one
 * message, one slice, no copy; a filtered one gets its pieces as fragments of one message, with the
 * brackets taken from the buffer where its pieces touch the run's ends and sent as one-byte fragments
 * otherwise (its first piece's comma skipped). Returns the bytes sent.
 */
export function sendJsonPieces(
  ws: Socket,
  json: Uint8Array,
  end: number,
  pieces: Int32Array,
  n: number,
): number {
  const sl = slices;
  sl.count = 0;
  sl.total = 0;
  const first = pieces[0];
  if (first === 1) sl.add(json, 0, pieces[1]);
  else {
    sl.add(BRACKETS, 0, 1);
    sl.add(json, first + 1, pieces[1]);
  }
  for (let i = 1; i < n; i++) sl.add(json, pieces[i * 2], pieces[i * 2 + 1]);
  if (pieces[n * 2 - 1] === end) {
    sl.ends[sl.count - 1] = end + 1;
    sl.total++;
  } else sl.add(BRACKETS, 1, 2);
  if (sl.count === 1) ws.send(json.subarray(sl.starts[0], sl.ends[0]), false);
  else {
    sl.ws = ws;
    ws.cork(sl.emit);
  }
  return sl.total;
}

const BRACKETS = new TextEncoder().encode("[]");

/**
 * The slices of the JSON message being sent. Sending is synchronous and a worker is one thread, so one set,
 * reused for every message, is enough: nothing is allocated per message.
 */
class JsonSlices {
  bufs: Uint8Array[] = [];
  starts: number[] = [];
  ends: number[] = [];
  count = 0;
  total = 0;
  ws: Socket | undefined;

  add(buf: Uint8Array, start: number, end: number): void {
    const i = this.count++;
    this.bufs[i] = buf;
    this.starts[i] = start;
    this.ends[i] = end;
    this.total += end - start;
  }

  readonly emit = (): void => {
    const ws = this.ws!;
    const last = this.count - 1;
    ws.sendFirstFragment(this.bufs[0].subarray(this.starts[0], this.ends[0]), false);
    for (let i = 1; i < last; i++) ws.sendFragment(this.bufs[i].subarray(this.starts[i], this.ends[i]));
    ws.sendLastFragment(this.bufs[last].subarray(this.starts[last], this.ends[last]));
  };
}

const slices = new JsonSlices();
