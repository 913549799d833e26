/**
 * The keys tokens are verified with, read from the files the operator names: `--auth-secret-file` (the
 * HS256 shared secret: the file's bytes, trailing whitespace and newlines left out) and `--auth-jwks` (a
 * JSON Web Key Set of public keys: RSA, EC or OKP, for RS256, ES256 and EdDSA). Read once at start and again
 * on SIGHUP; a file that cannot be used is refused with an {@link OptionError} naming the option.
 */
import { readFileSync, statSync } from "node:fs";
import { createLocalJWKSet, type JSONWebKeySet } from "jose";
import { OptionError } from "../errors.js";

/** Plain data (it is handed to every socket worker as it is). */
export interface AuthKeys {
  /** The HS256 shared secret. */
  secret: Uint8Array | undefined;
  /** Public keys. */
  jwks: JSONWebKeySet | undefined;
}

/** Where the keys are read from: the options of the same names. */
export interface AuthKeyFiles {
  authSecretFile: string | undefined;
  authJwks: string | undefined;
}

/** HS256 wants a key at least as long as its hash (RFC 7518 §3.2): shorter ones are refused. */
export const MIN_SECRET_BYTES = 32;
/** Key types of public keys: RSA (RS256), EC (ES256), OKP (EdDSA). */
const PUBLIC_KEY_TYPES = ["RSA", "EC", "OKP"];
/** Members that only private or symmetric keys have. */
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "k"];

/** The keys and what the operator should hear about their files; undefined keys when auth is off. */
export interface ReadKeys {
  keys: AuthKeys | undefined;
  /** Files other users can read, for the log. */
  warnings: string[];
}

/** Reads the files `o` names; auth is off (keys undefined) when it names none. */
export function readAuthKeys(o: AuthKeyFiles): ReadKeys {
  const warnings: string[] = [];
  if (o.authSecretFile === undefined && o.authJwks === undefined) return { keys: undefined, warnings };
  const secret =
    o.authSecretFile === undefined ? undefined : readSecret(o.authSecretFile, "--auth-secret-file", warnings);
  const jwks = o.authJwks === undefined ? undefined : readJwks(o.authJwks, "--auth-jwks");
  return { keys: { secret, jwks }, warnings };
}

/** The shared secret in `path`; `warnings` hears of a file other users can read. */
export function readSecret(path: string, option: string, warnings: string[] = []): Uint8Array {
  const bytes = readBytes(path, option);
  let end = bytes.length;
  while (end > 0 && (bytes[end - 1] === 0x0a || bytes[end - 1] === 0x0d || bytes[end - 1] === 0x20)) end--;
  if (end < MIN_SECRET_BYTES) {
    throw new OptionError(
      option,
      `${path} holds ${end} bytes: an HS256 secret needs at least ${MIN_SECRET_BYTES} (openssl rand -base64 48 > ${path})`,
    );
  }
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    warnings.push(`${option} ${path} is readable by other users (mode ${mode.toString(8)}): chmod 600 it`);
  }
  return bytes.slice(0, end);
}

function readJwks(path: string, option: string): JSONWebKeySet {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readBytes(path, option).toString());
  } catch (err) {
    if (err instanceof OptionError) throw err;
    throw new OptionError(option, `${path} is not JSON: ${(err as Error).message}`);
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new OptionError(option, `${path} must hold a JSON Web Key Set: {"keys":[…]} with at least one key`);
  }
  keys.forEach((k: Record<string, unknown>, i) => {
    if (typeof k !== "object" || k === null || !PUBLIC_KEY_TYPES.includes(k.kty as string)) {
      throw new OptionError(option, `${path}: keys[${i}] is not an RSA, EC or OKP public key`);
    }
    const secret = PRIVATE_MEMBERS.find((m) => m in k);
    if (secret !== undefined) {
      throw new OptionError(
        option,
        `${path}: keys[${i}] holds private key material ("${secret}"): give public keys only`,
      );
    }
  });
  try {
    createLocalJWKSet(parsed as JSONWebKeySet);
  } catch (err) {
    throw new OptionError(option, `${path}: ${(err as Error).message}`);
  }
  return parsed as JSONWebKeySet;
}

function readBytes(path: string, option: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new OptionError(option, `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
}
