/**
 * The SQL fragments every statement of `src/store/` is built from, each rule written once.
 *
 * Every fragment reads the sessions row through the alias `s`. Fragments take their
 * operands as SQL text: the clock (see {@link clockOf}) and typed parameter placeholders
 * that `build.ts` numbers, never values.
 *
 * The SQL functions in `sql/functions.sql` (the read's touch, `session_handler()`) state
 * the same rules in PL/pgSQL; a change to a rule here goes there too.
 * @module
 */
import { quoteIdent } from "../../lib/identifier.js";
import type { TableName } from "../../session/table.js";

/**
 * Where a statement takes the time from: the database's `now()` (every application), or
 * a timestamp the caller passes as `$1` (an injected clock, as the tests use).
 */
export type Clock = "database" | "injected";

/**
 * The clock as SQL: `now()`, or the injected timestamp, always parameter `$1`.
 *
 * @example
 * ```ts
 * clockOf("injected"); // "$1::timestamptz"
 * ```
 */
export function clockOf(clock: Clock): string {
  return clock === "injected" ? "$1::timestamptz" : "now()";
}

/**
 * The sessions table, schema-qualified and quoted; with `suffix`, the object named after
 * it (`"_touch"`: the read's touch function).
 *
 * @example
 * ```ts
 * qualifiedName({ schema: "pgsession", table: "sessions" }); // "\"pgsession\".\"sessions\""
 * ```
 */
export function qualifiedName(names: TableName, suffix = ""): string {
  return `${quoteIdent(names.schema)}.${quoteIdent(names.table + suffix)}`;
}

/**
 * Live: before its idle expiry. Every writer keeps `idle_expires_at` at or before
 * `absolute_expires_at` (the TypeScript statements and the SQL functions alike set it to
 * `least(…, absolute_expires_at)` or earlier), so this one comparison also enforces the
 * absolute lifetime, and the hot path evaluates one expression instead of two.
 *
 * @example
 * ```ts
 * `SELECT … FROM t s WHERE s.token_hash = $2::bytea AND ${isLive("now()")}`;
 * ```
 */
export function isLive(now: string): string {
  return `s.idle_expires_at > ${now}`;
}

/**
 * Expired: the negation of {@link isLive}, for pruning and counts.
 *
 * @example
 * ```ts
 * `DELETE FROM t s WHERE ${isExpired("now()")}`;
 * ```
 */
export function isExpired(now: string): string {
  return `NOT (${isLive(now)})`;
}

/**
 * The row's previous token, inside the grace window that its last rotation or login gave
 * it (a login's answers to nothing: see {@link matchesToken}).
 *
 * @example
 * ```ts
 * `SELECT … FROM t s WHERE ${isPreviousToken("now()", "$1::bytea")} AND ${isLive("now()")}`;
 * ```
 */
export function isPreviousToken(now: string, tokenHash: string): string {
  return `s.prev_token_hash = ${tokenHash} AND s.prev_expires_at > ${now}`;
}

/**
 * The row answers to this token hash: its current token, or the one a rotation replaced,
 * inside the grace window. The token a login replaced answers to nothing, so that a token
 * planted before the login (session fixation) never reaches the logged-in session.
 *
 * @example
 * ```ts
 * `UPDATE t s SET … WHERE ${matchesToken("now()", "$1::bytea")} AND ${isLive("now()")}`;
 * ```
 */
export function matchesToken(now: string, tokenHash: string): string {
  return `(s.token_hash = ${tokenHash} OR (${isPreviousToken(now, tokenHash)} AND NOT s.prev_login))`;
}

/**
 * The row knows this token hash: as {@link matchesToken}, and also the token a login
 * retired, so that a request still carrying it is told apart from an unknown visitor.
 *
 * @example
 * ```ts
 * `SELECT s.version FROM t s WHERE ${knowsToken("now()", "$1::bytea")}`;
 * ```
 */
export function knowsToken(now: string, tokenHash: string): string {
  return `(s.token_hash = ${tokenHash} OR (${isPreviousToken(now, tokenHash)}))`;
}

/**
 * A read is due to extend the idle expiry: `touch_after` has passed since it was last seen.
 *
 * @example
 * ```ts
 * `CASE WHEN ${isTouchDue("now()")} THEN … END`;
 * ```
 */
export function isTouchDue(now: string): string {
  return `s.last_seen_at <= ${now} - s.touch_after`;
}

/**
 * The call of the read's touch (`sql/functions.sql`): extends the idle expiry of a row
 * still live and returns `[last_seen_at, idle_expires_at]` in epoch milliseconds, or null.
 * A function called from a CASE runs only when due; a data-modifying CTE would make
 * PostgreSQL set up an UPDATE on every read.
 *
 * @example
 * ```ts
 * `CASE WHEN ${isTouchDue(now)} THEN ${touchCall(names, now)} END`;
 * ```
 */
export function touchCall(names: TableName, now: string): string {
  return `${qualifiedName(names, "_touch")}(s.id, ${now})`;
}

/**
 * The row's data after a write: the keys of `deleted` (a JSON array as text) removed,
 * then `set` (a JSON object as text) merged on top, or everything replaced when `cleared`
 * (a boolean). Writes send only what changed, so parallel requests that touch different
 * keys keep each other's changes. The usual write deletes nothing, and then skips
 * unpacking the empty array.
 *
 * @example
 * ```ts
 * `UPDATE t s SET data = ${mergedData("$3::text", "$4::text", "$5::boolean")}`;
 * ```
 */
export function mergedData(deleted: string, set: string, cleared: string): string {
  return `(CASE WHEN ${cleared} THEN '{}'::jsonb WHEN ${deleted} = '[]' THEN s.data
       ELSE s.data - ARRAY(SELECT jsonb_array_elements_text(${deleted}::jsonb)) END) || ${set}::jsonb`;
}

/**
 * The size of session data as `maxDataSize` counts it: the UTF-8 bytes of jsonb's text
 * (`src/lib/jsonb-size.ts` computes the same from JSON text, for the check before a write).
 *
 * @example
 * ```ts
 * `SELECT ${dataSize("s.data")} AS size FROM t s`;
 * ```
 */
export function dataSize(data: string): string {
  return `octet_length((${data})::text)`;
}

/**
 * Whether data fits in `limit` bytes (an integer parameter; null: no limit). A write
 * checks the data it merges in its WHERE, so that parallel writes, each of which fitted
 * the data it read, can never store more than the limit together.
 *
 * @example
 * ```ts
 * `UPDATE t s SET data = ${merged} WHERE … AND ${fitsIn(merged, "$6::integer")}`;
 * ```
 */
export function fitsIn(data: string, limit: string): string {
  return `(${limit} IS NULL OR ${dataSize(data)} <= ${limit})`;
}

/**
 * A duration in milliseconds (a `float8` parameter) as an interval: durations travel as
 * milliseconds.
 *
 * @example
 * ```ts
 * `${clock} + ${milliseconds("$4::float8")}`;
 * ```
 */
export function milliseconds(ms: string): string {
  return `(${ms} * interval '1 millisecond')`;
}

/**
 * The row belongs to exactly the audience `audience` names (a nullable text parameter):
 * null matches only rows without one. Every statement that reaches a session by its token
 * applies it, so that a token issued for one audience names nothing under another (and a
 * read under another audience does not touch it either).
 *
 * @example
 * ```ts
 * `SELECT … FROM t s WHERE s.token_hash = $1::bytea AND ${isAudience("$2::text")}`;
 * ```
 */
export function isAudience(audience: string): string {
  return `s.audience IS NOT DISTINCT FROM ${audience}`;
}

/**
 * The idle expiry a write that sets the lifetime gives the row: `idle` (a float8 parameter,
 * in milliseconds) from now, never past the absolute expiry.
 *
 * @example
 * ```ts
 * `UPDATE t s SET idle_expires_at = ${slidExpiry("now()", "$3::float8")}`;
 * ```
 */
export function slidExpiry(now: string, idle: string): string {
  return `least(${now} + ${milliseconds(idle)}, s.absolute_expires_at)`;
}

/**
 * Whether a row belongs to the audience `audience` names (a nullable text parameter);
 * null means every audience. For listings and revocations, which administer sessions
 * rather than act as one: see {@link isAudience} for the rule of reads.
 *
 * @example
 * ```ts
 * `SELECT count(*) FROM t s WHERE ${inAudience("$1::text")}`;
 * ```
 */
export function inAudience(audience: string): string {
  return `(${audience} IS NULL OR s.audience = ${audience})`;
}
