/**
 * Internal: the commit's Set-Cookie put into the header object the app passed to a held
 * `writeHead(status[, message], {...})`, instead of being set on the response.
 *
 * Why it exists: when nothing was set with setHeader, node:http sends the object passed to
 * writeHead as it is; one setHeader before it (the ordinary way to add the cookie) makes
 * writeHead merge every header of that object into the response's own header map, one by
 * one, on every request that sets a cookie. That is how node:http implements writeHead,
 * not its documented API: the bytes on the wire are the same either way, only the cost
 * differs. test/adapters/writehead-fast-path.test.ts fails if node changes underneath;
 * deleting this module (and its one call in `hold.ts`) changes nothing but speed.
 * @module
 */
import type { ServerResponse } from "node:http";
import { isCacheControl, forbidsSharedCaching, NO_STORE } from "../shared/cache-control.js";
import { headersAt, namesSetCookie } from "./writehead.js";

/**
 * Puts `setCookie` into a copy of the plain header object among `rest` (writeHead's
 * arguments after the status; the app's object is left as it was). False, and nothing
 * changed, unless that object is plain, names no Set-Cookie, and nothing was set with
 * setHeader: then the cookie must be appended to the response instead. With `noStore`,
 * the copy also gets `Cache-Control: no-store` unless it names a Cache-Control that keeps
 * the response out of shared caches (see `shared/cache-control.ts`).
 */
export function putIntoWriteHeadHeaders(res: ServerResponse, rest: unknown[], setCookie: string, noStore: boolean): boolean {
  const at = headersAt(rest);
  const headers = rest[at];
  if (headers === null || typeof headers !== "object" || Object.getPrototypeOf(headers) !== Object.prototype) return false;
  if (namesSetCookie(headers) || res.getHeaderNames().length > 0) return false;
  const copy: Record<string, unknown> = { ...headers, "set-cookie": setCookie };
  if (noStore) {
    let named = false;
    for (const name in headers) {
      if (!isCacheControl(name)) continue;
      named = true;
      if (!forbidsSharedCaching(copy[name])) copy[name] = NO_STORE;
    }
    if (!named) copy["cache-control"] = NO_STORE;
  }
  rest[at] = copy;
  return true;
}
