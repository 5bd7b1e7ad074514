/**
 * Session tokens: 32 random bytes, base64url in the cookie, SHA-256 in the database.
 * @module
 */
import * as nodeCrypto from "node:crypto";
import { createHash, randomBytes } from "node:crypto";

/**
 * Source of random bytes; injectable for tests.
 *
 * @example
 * ```ts
 * let n = 0;
 * const randomBytes: RandomBytes = (size) => new Uint8Array(size).fill(n++); // deterministic tokens in a test
 * createSessions({ store, randomBytes });
 * ```
 */
export type RandomBytes = (size: number) => Uint8Array;

/** Length of a token in its base64url form (32 bytes, no padding). */
export const TOKEN_LENGTH = 43;
const TOKEN_BYTES = 32;
// 43 base64url characters encode 258 bits; the last one only carries 4 of them, so a
// canonical token ends in one of these 16 characters. Checking it refuses non-canonical
// aliases of a real token.
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

/** The default source: the operating system's CSPRNG, asked for each value's bytes when it is made. */
export const defaultRandomBytes: RandomBytes = (size) => randomBytes(size);

/** `size` random bytes, base64url. */
function randomBase64url(size: number, source: RandomBytes): string {
  return Buffer.from(source(size)).toString("base64url");
}

/**
 * Makes a new session token: 256 bits from the CSPRNG, base64url.
 *
 * @example
 * ```ts
 * const token = generateToken(); // "hZ3...43 chars"
 * ```
 */
export function generateToken(randomBytes: RandomBytes = defaultRandomBytes): string {
  return randomBase64url(TOKEN_BYTES, randomBytes);
}

// The base64url characters in ASCII order: a number written in them sorts, as text in the
// "C" collation, the way the number does.
const SORTABLE_DIGITS = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
const TIME_DIGITS = 8;
// The time is written plus 2^47, so that an id starts with a letter ("V" until 2109), not
// with "-" (a leading dash reads as an option to command-line tools); 47 bits of
// milliseconds then last until the year 6429.
const ID_TIME_OFFSET = 2 ** 47;
const MAX_ID_TIME = 2 ** 47 - 1;
const PUBLIC_ID_RANDOM_BYTES = 12;

/**
 * Makes a public session id: the creation time in milliseconds (8 characters that sort by
 * time), then 96 random bits, base64url; unrelated to the token. Time-ordered like a
 * UUIDv7, so a new session's id goes to the right edge of the primary key instead of a
 * random page of it: a login dirties one index page, not a page per login in each of
 * two B-trees (after a checkpoint, each newly dirtied page costs a full-page image in the
 * WAL). The creation time it reveals is listed with the session anyway.
 *
 * @param randomBytes - The source of the 12 random bytes.
 * @param nowMs - The creation time (epoch milliseconds); a time that is not a finite number
 *   from 0 to 2^47 - 1 is clamped into that range (NaN counts as 0).
 * @example
 * ```ts
 * generatePublicId(); // "VP7wciHSuQKIKvVvhWTvwAIz" (24 characters)
 * ```
 */
export function generatePublicId(randomBytes: RandomBytes = defaultRandomBytes, nowMs: number = Date.now()): string {
  let time = "";
  let rest = ID_TIME_OFFSET + (Number.isFinite(nowMs) ? Math.min(Math.max(0, Math.floor(nowMs)), MAX_ID_TIME) : 0);
  for (let i = 0; i < TIME_DIGITS; i++) {
    time = SORTABLE_DIGITS[rest % 64] + time;
    rest = Math.floor(rest / 64);
  }
  return time + randomBase64url(PUBLIC_ID_RANDOM_BYTES, randomBytes);
}

/**
 * True when `value` has the exact shape of a token this library issues. Anything else is
 * "no session" and never reaches SQL.
 *
 * @example
 * ```ts
 * isWellFormedToken("abc"); // false
 * ```
 */
export function isWellFormedToken(value: unknown): value is string {
  return typeof value === "string" && value.length === TOKEN_LENGTH && TOKEN_SHAPE.test(value);
}

// crypto.hash (Node 20.12+, 21.7+) hashes in one call, without a Hash object; older Node
// versions fall back to createHash.
const oneShotHash = (nodeCrypto as { hash?: (algorithm: string, data: string, encoding: "hex" | "latin1") => string }).hash;

/**
 * SHA-256 of the token, hex: the only form of the token the database ever sees.
 * PostgreSQL computes the same value with `encode(sha256(convert_to(token, 'UTF8')), 'hex')`.
 *
 * @example
 * ```ts
 * hashToken(token); // 64 hex characters
 * ```
 */
export function hashToken(token: string): string {
  return oneShotHash ? oneShotHash("sha256", token, "hex") : createHash("sha256").update(token, "utf8").digest("hex");
}

/**
 * SHA-256 of the token as its 32 bytes: what the store sends PostgreSQL (a binary `bytea`
 * parameter, which the database takes as it is, where hex text would be decoded on every
 * statement). {@link hashToken} is the same hash as hex.
 *
 * @example
 * ```ts
 * tokenHashBytes(token).length; // 32
 * ```
 */
export function tokenHashBytes(token: string): Buffer {
  // Through a latin1 string: Buffer.from takes the bytes from Node's buffer pool, where the
  // Buffer that crypto.hash or digest() returns is an allocation of its own.
  return oneShotHash ? Buffer.from(oneShotHash("sha256", token, "latin1"), "latin1") : createHash("sha256").update(token, "utf8").digest();
}
