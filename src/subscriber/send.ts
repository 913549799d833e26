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
