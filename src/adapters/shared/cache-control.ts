/**
 * Internal: the Cache-Control rule for responses that set the session cookie (the
 * `noStore` option of `createSessions`). A shared cache (a CDN, a proxy) that stored such a
 * response would hand one visitor's session cookie to the next: unless the app already
 * keeps the response out of shared caches (`no-store` or `private`), it gets `no-store`.
 * Adapters only apply this, each in its framework's terms.
 * @module
 */

/** The value pgsession sets. */
export const NO_STORE = "no-store";

/**
 * Whether a Cache-Control value (as a header API returns it: a string, a list, a number or
 * nothing) already keeps the response out of shared caches: a `no-store` or `private`
 * directive (`private="set-cookie"` included), in any case.
 *
 * @example
 * ```ts
 * forbidsSharedCaching("private, max-age=60"); // true
 * forbidsSharedCaching("public, max-age=60"); // false: pgsession replaces it
 * ```
 */
export function forbidsSharedCaching(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  const text = Array.isArray(value) ? value.join(",") : String(value);
  for (const directive of text.split(",")) {
    const name = directive.split("=", 1)[0]!.trim().toLowerCase();
    if (name === "no-store" || name === "private") return true;
  }
  return false;
}

/** Whether a header name is Cache-Control, in any case. */
export function isCacheControl(name: unknown): boolean {
  return typeof name === "string" && name.length === 13 && name.toLowerCase() === "cache-control";
}
