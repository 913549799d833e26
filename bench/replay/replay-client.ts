/** A benchmark client of the historical feed: subscribes, counts frames until `replay_done`, times it. */
import WebSocket from "ws";
import { frameLength } from "../../src/frame/codec.js";

export interface ReplayRun {
  frames: number;
  framesPerSecond: number;
  /** From the subscribe request to the first binary message. */
  firstFrameMs: number;
  /** From the subscribe request to `replay_done`. */
  endMs: number;
}

/**
 * Replays `{symbols:["*"], feed:"historical", ...request}` from the daemon on `port`; rejects when no
 * `replay_done` came within `timeoutMs` (reported, not waited for).
 */
export async function replayToDone(
  port: number,
  request: Record<string, unknown>,
  timeoutMs = 60_000,
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
          for (let off = 0; off < data.length; off += frameLength(data, off)) frames++;
        } else if (data.toString().includes("replay_done")) {
          clearTimeout(timer);
          resolve(performance.now());
        }
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
