/**
 * A benchmark client of the historical feed: subscribes, reads frames until `replay_done`, times it.
 * With `format:"json"` in the request every frame is a JSON text message and is parsed; binary frames
 * are counted, or decoded field by field with `decode` (bench/e2e/decode.ts: what the peers benchmark's
 * clients do on both sides).
 */
import WebSocket from "ws";
import { frameLength } from "../../src/frame/codec.js";
import { decodeFrame, parseJson } from "../e2e/decode.js";

export interface ReplayRun {
  frames: number;
  framesPerSecond: number;
  /** From the subscribe request to the first frame. */
  firstFrameMs: number;
  /** From the subscribe request to `replay_done`. */
  endMs: number;
}

export interface ReplayClientOptions {
  /** Reject when no `replay_done` came within this time (reported, not waited for). @default 60000 */
  timeoutMs?: number;
  /** Decode every field of every binary frame. @default false */
  decode?: boolean;
}

/** Replays `{symbols:["*"], feed:"historical", ...request}` from the daemon on `port`. */
export async function replayToDone(
  port: number,
  request: Record<string, unknown>,
  { timeoutMs = 60_000, decode = false }: ReplayClientOptions = {},
): Promise<ReplayRun> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/feed`, { perMessageDeflate: false });
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  const start = performance.now();
  let first = 0;
  let frames = 0;
  try {
    const end = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`replay did not finish in ${timeoutMs} ms (${frames} frames)`)),
        timeoutMs,
      );
      ws.on("message", (data: Buffer, isBinary: boolean) => {
        if (isBinary) {
          if (first === 0) first = performance.now();
          for (let off = 0; off < data.length; off += frameLength(data, off)) {
            if (decode) decodeFrame(data, off);
            frames++;
          }
          return;
        }
        const m = parseJson(data);
        if (Array.isArray(m)) {
          if (first === 0) first = performance.now();
          frames += m.length;
        } else if (m.op === undefined) {
          if (first === 0) first = performance.now();
          frames++;
        } else if (m.op === "replay_done") {
          clearTimeout(timer);
          resolve(performance.now());
        } else if (m.op === "error") reject(new Error(`replay refused: ${data.toString().slice(0, 200)}`));
      });
      ws.send(JSON.stringify({ op: "subscribe", id: 1, symbols: ["*"], feed: "historical", ...request }));
    });
    return {
      frames,
      framesPerSecond: Math.round(frames / ((end - start) / 1000)),
      firstFrameMs: Math.round((first - start) * 100) / 100,
      endMs: Math.round(end - start),
    };
  } finally {
    ws.close();
  }
}
