/**
 * Verifies tokens (JWTs) with jose: HS256 against the shared secret, RS256 / ES256 / EdDSA against the
 * public keys of the JWKS (chosen by the token's `kid`, else by its algorithm). The token's `alg` picks the
 * key kind, and each kind accepts only its own algorithms, so a token cannot have an RSA public key used as
 * an HMAC secret. `exp` and `nbf` are checked without tolerance: the expiry timer of a connection closes it
 * at `exp` exactly, and verification agrees with it.
 *
 * Every refusal is an `UNAUTHORIZED` TickringError whose message says why in words a client can act on
 * (expired, not yet valid, bad signature, unknown key, malformed), never the token itself.
 */
import { createLocalJWKSet, decodeProtectedHeader, errors, type JWTVerifyGetKey, jwtVerify } from "jose";
import { TickringError } from "../errors.js";
import { preview } from "../frame/preview.js";
import { type Grants, grantsOf } from "./claims.js";
import type { AuthKeys } from "./keys.js";

/** Longest token looked at: every connection may present one, so the work per attempt is bounded. */
export const MAX_TOKEN_CHARS = 8192;
const SECRET_ALGS = ["HS256"];
const PUBLIC_ALGS = ["RS256", "ES256", "EdDSA", "Ed25519"];

export class TokenVerifier {
  private secret: Uint8Array | undefined;
  private jwks: JWTVerifyGetKey | undefined;

  constructor(keys: AuthKeys) {
    this.setKeys(keys);
  }

  /** Replaces the keys (SIGHUP re-read them); tokens verified from now on use the new ones. */
  setKeys(keys: AuthKeys): void {
    this.secret = keys.secret;
    this.jwks = keys.jwks === undefined ? undefined : createLocalJWKSet(keys.jwks);
  }

  /** The grants of `token`, or an `UNAUTHORIZED` rejection saying why not. */
  async verify(token: string, nowMs = Date.now()): Promise<Grants> {
    if (token.length > MAX_TOKEN_CHARS) {
      throw unauthorized(`token of ${token.length} characters: at most ${MAX_TOKEN_CHARS} are accepted`);
    }
    let alg: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw unauthorized("malformed token: not a JWT (header.payload.signature)");
    }
    const options = { currentDate: new Date(nowMs), clockTolerance: 0 };
    let payload: Record<string, unknown>;
    try {
      if (this.secret !== undefined && SECRET_ALGS.includes(alg as string)) {
        ({ payload } = await jwtVerify(token, this.secret, { ...options, algorithms: SECRET_ALGS }));
      } else if (this.jwks !== undefined && PUBLIC_ALGS.includes(alg as string)) {
        ({ payload } = await jwtVerify(token, this.jwks, { ...options, algorithms: PUBLIC_ALGS }));
      } else {
        throw unauthorized(`token signed with ${preview(alg)}: this server accepts ${this.accepted()}`);
      }
    } catch (err) {
      throw refusal(err);
    }
    return grantsOf(payload);
  }

  private accepted(): string {
    const algs = [...(this.secret ? SECRET_ALGS : []), ...(this.jwks ? PUBLIC_ALGS.slice(0, 3) : [])];
    return algs.join(", ");
  }
}

function unauthorized(message: string): TickringError {
  return new TickringError("UNAUTHORIZED", message);
}

/** jose's errors in words a client can act on. */
function refusal(err: unknown): TickringError {
  if (err instanceof TickringError) return err;
  if (err instanceof errors.JWTExpired) {
    const exp = err.payload.exp;
    const at = typeof exp === "number" ? ` at ${new Date(exp * 1000).toISOString()}` : "";
    return unauthorized(`token expired${at}: get a fresh one`);
  }
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === "nbf" && typeof err.payload.nbf === "number") {
      return unauthorized(`token not valid before ${new Date(err.payload.nbf * 1000).toISOString()}`);
    }
    return unauthorized(`token claim ${err.claim}: ${err.reason}`);
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return unauthorized("bad token signature: not signed with this server's key");
  }
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) {
    return unauthorized("no key of this server matches the token's kid and algorithm");
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return unauthorized("token algorithm not accepted");
  if (err instanceof errors.JOSEError) return unauthorized(`malformed token (${err.code})`);
  return new TickringError("INTERNAL", "token verification failed", { cause: err });
}
