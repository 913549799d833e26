/**
 * Verifies tokens (JWTs) with jose: HS256 against the shared secret, RS256 / ES256 / EdDSA against the
 * public keys of the JWKS (chosen by the token's `kid`, else by its algorithm). The token's `alg` picks the
 * key kind, and each kind accepts only its own algorithms, so a token cannot have an RSA public key used as
 * an HMAC secret. `exp` and `nbf` are checked without tolerance: the expiry timer of a connection closes it
 * at `exp` exactly, and verification agrees with it.
 *
 * Every refusal is an `UNAUTHORIZED` TickringError whose message says why in words a client can act on
 * (expired, not yet valid, bad signature, unknown key, malformed), never the token itself.
 *
 * jose checks signatures asynchronously; {@link TokenVerifier.precheck} tells synchronously what can be told
 * without the signature, so a WebSocket upgrade can still refuse most bad tokens before it happens (see
 * src/edge/routes.ts for why upgrades cannot wait).
 */
import {
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  type JWK,
  type JWTVerifyGetKey,
  jwtVerify,
} from "jose";
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
  private publicKeys: JWK[] = [];

  constructor(keys: AuthKeys) {
    this.setKeys(keys);
  }

  /** Replaces the keys (SIGHUP re-read them); tokens verified from now on use the new ones. */
  setKeys(keys: AuthKeys): void {
    this.secret = keys.secret;
    this.jwks = keys.jwks === undefined ? undefined : createLocalJWKSet(keys.jwks);
    this.publicKeys = keys.jwks?.keys ?? [];
  }

  /**
   * What `token` claims, checked without its signature: throws the `UNAUTHORIZED` refusal of a token that
   * cannot pass (too long, malformed, an algorithm or `kid` this server has no key for, expired, not yet
   * valid, no `sub`, malformed claims). Its claims are not to be trusted: they may refuse, never admit.
   */
  precheck(token: string, nowMs = Date.now()): Grants {
    if (token.length > MAX_TOKEN_CHARS) {
      throw unauthorized(`token of ${token.length} characters: at most ${MAX_TOKEN_CHARS} are accepted`);
    }
    let header: { alg?: unknown; kid?: unknown };
    let payload: Record<string, unknown>;
    try {
      header = decodeProtectedHeader(token);
      payload = decodeJwt(token);
    } catch {
      throw unauthorized("malformed token: not a JWT (header.payload.signature)");
    }
    const { alg, kid } = header;
    const bySecret = this.secret !== undefined && SECRET_ALGS.includes(alg as string);
    if (!bySecret && !(this.jwks !== undefined && PUBLIC_ALGS.includes(alg as string))) {
      throw unauthorized(`token signed with ${preview(alg)}: this server accepts ${this.accepted()}`);
    }
    if (!bySecret && kid !== undefined && !this.publicKeys.some((k) => k.kid === kid)) throw noKey();
    if (typeof payload.exp === "number" && payload.exp * 1000 <= nowMs) throw expired(payload.exp);
    if (typeof payload.nbf === "number" && payload.nbf * 1000 > nowMs) throw notYet(payload.nbf);
    return grantsOf(payload);
  }

  /** The grants of `token`, its signature checked, or an `UNAUTHORIZED` rejection saying why not. */
  async verify(token: string, nowMs = Date.now()): Promise<Grants> {
    this.precheck(token, nowMs);
    const options = { currentDate: new Date(nowMs), clockTolerance: 0 };
    let payload: Record<string, unknown>;
    try {
      const alg = decodeProtectedHeader(token).alg as string;
      if (this.secret !== undefined && SECRET_ALGS.includes(alg)) {
        ({ payload } = await jwtVerify(token, this.secret, { ...options, algorithms: SECRET_ALGS }));
      } else {
        ({ payload } = await jwtVerify(token, this.jwks!, { ...options, algorithms: PUBLIC_ALGS }));
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

const expired = (exp: number) =>
  unauthorized(`token expired at ${new Date(exp * 1000).toISOString()}: get a fresh one`);
const notYet = (nbf: number) => unauthorized(`token not valid before ${new Date(nbf * 1000).toISOString()}`);
const noKey = () => unauthorized("no key of this server matches the token's kid and algorithm");

/** jose's errors in words a client can act on. */
function refusal(err: unknown): TickringError {
  if (err instanceof TickringError) return err;
  if (err instanceof errors.JWTExpired && typeof err.payload.exp === "number")
    return expired(err.payload.exp);
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === "nbf" && typeof err.payload.nbf === "number") return notYet(err.payload.nbf);
    return unauthorized(`token claim ${err.claim}: ${err.reason}`);
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return unauthorized("bad token signature: not signed with this server's key");
  }
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys)
    return noKey();
  if (err instanceof errors.JOSEAlgNotAllowed) return unauthorized("token algorithm not accepted");
  if (err instanceof errors.JOSEError) return unauthorized(`malformed token (${err.code})`);
  return new TickringError("INTERNAL", "token verification failed", { cause: err });
}
