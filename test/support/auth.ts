/** Secrets, tokens and refused upgrades for the tests of a daemon with auth on. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import WebSocket from "ws";
import type { TickringClaim } from "../../src/auth/claims.js";
import { mintToken } from "../../src/auth/token.js";

/** A fresh HS256 secret written (mode 600) to `dir/name`. */
export function writeSecret(dir: string, name = "secret"): { path: string; bytes: Uint8Array } {
  const text = Buffer.from(crypto.getRandomValues(new Uint8Array(36))).toString("base64");
  const path = join(dir, name);
  writeFileSync(path, `${text}\n`, { mode: 0o600 });
  return { path, bytes: new TextEncoder().encode(text) };
}

/** A token for `sub` granting `claim`, valid for `ttlMs` from `nowMs`. */
export function tokenFor(
  secret: Uint8Array,
  sub: string,
  claim: TickringClaim,
  ttlMs = 3_600_000,
  nowMs = Date.now(),
): Promise<string> {
  return mintToken(secret, { sub, claim, ttlMs, nowMs });
}

export const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

/** The HTTP answer to a WebSocket upgrade the server refuses (fails if it accepts). */
export function refusedUpgrade(
  url: string,
  options?: WebSocket.ClientOptions,
): Promise<{ status: number; code: string; message: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    ws.once("open", () => {
      ws.close();
      reject(new Error(`${url}: upgraded, expected a refusal`));
    });
    ws.once("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d));
      res.on("end", () => {
        const { code, message } = JSON.parse(body) as { code: string; message: string };
        resolve({ status: res.statusCode ?? 0, code, message });
      });
    });
    ws.once("error", () => {});
  });
}
