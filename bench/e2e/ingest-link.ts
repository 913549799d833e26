/**
 * A benchmark publisher's connection, either of two kinds, with the same shape: tickring's `/v1/ingest`
 * over WebSocket (a string is sent as a text message, a Buffer as a binary one; every `{"op":"ack"}`
 * is reported), or NATS core over TCP (bytes of protocol commands — `PUB`s, `PING`s — written as they
 * are; every `PONG` is reported, which is how a NATS publisher learns the server has processed
 * everything it sent before its `PING`). Both write synchronously when the socket can take the bytes
 * (libuv tries the write at once), so neither side waits for the event loop.
 */
import { connect } from "node:net";
import WebSocket from "ws";
import { CONNECT_LINE, NatsParser } from "../peers/nats-protocol.js";

export interface IngestLink {
  send(data: Buffer | string): void;
  close(): void;
}

/**
 * Opens `url`: `ws://…/v1/ingest` (tickring) or `nats://host:port`. `onAck` runs for each tickring
 * ack or NATS `PONG` after the handshake; `onError` for a tickring `error` message or a NATS `-ERR`.
 */
export async function openIngestLink(
  url: string,
  onAck: () => void = () => {},
  onError: (message: string) => void = (m) => {
    throw new Error(m);
  },
): Promise<IngestLink> {
  return url.startsWith("nats://") ? openNats(url, onAck, onError) : openTickring(url, onAck, onError);
}

async function openTickring(
  url: string,
  onAck: () => void,
  onError: (m: string) => void,
): Promise<IngestLink> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  ws.on("message", (data: Buffer) => {
    const text = data.toString();
    if (text.startsWith('{"op":"ack"')) onAck();
    else if (text.includes('"op":"error"')) onError(`tickring ingest: ${text.slice(0, 200)}`);
  });
  return { send: (data) => ws.send(data, { binary: typeof data !== "string" }), close: () => ws.close() };
}

async function openNats(url: string, onAck: () => void, onError: (m: string) => void): Promise<IngestLink> {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port), noDelay: true });
  let ready = false;
  await new Promise<void>((resolve, reject) => {
    const parser = new NatsParser({
      onMsg: () => {},
      reply: (d) => socket.write(d),
      onInfo: () => socket.write(`${CONNECT_LINE}PING\r\n`),
      onPong: () => {
        if (ready) onAck();
        else {
          ready = true;
          resolve();
        }
      },
      onErr: onError,
    });
    socket.on("data", (chunk: Buffer) => parser.push(chunk));
    socket.once("error", reject);
  });
  return { send: (data) => socket.write(data), close: () => socket.end() };
}
