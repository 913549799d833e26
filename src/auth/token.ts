/**
 * Minting tokens with the shared secret (HS256), for operators (`tickring token create`) and tests. Tokens
 * signed with private keys (RS256, ES256, EdDSA) come from the operator's own issuer; the daemon verifies
 * them against `--auth-jwks`.
 */
import { SignJWT } from "jose";
import { OptionError } from "../errors.js";
import { CLAIM, claimProblem, type TickringClaim } from "./claims.js";

/** What a token says. */
export interface TokenSpec {
  sub: string;
  claim: TickringClaim;
  /** Lifetime from `nowMs`, ms (`exp` = now + ttl, rounded down to the second). */
  ttlMs: number;
  /** @default Date.now() */
  nowMs?: number;
}

/** A signed HS256 token; throws an {@link OptionError} when the claim would be refused by the daemon. */
export async function mintToken(secret: Uint8Array, spec: TokenSpec): Promise<string> {
  const problem = claimProblem(spec.claim);
  if (problem !== undefined) throw new OptionError("token", problem);
  if (spec.sub === "") throw new OptionError("--sub", "must not be empty");
  const now = Math.floor((spec.nowMs ?? Date.now()) / 1000);
  return new SignJWT({ [CLAIM]: spec.claim })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(spec.sub)
    .setIssuedAt(now)
    .setExpirationTime(now + Math.floor(spec.ttlMs / 1000))
    .sign(secret);
}
