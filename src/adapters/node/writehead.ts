/**
 * Internal: the headers argument of `writeHead(status[, message][, headers])`, as the hold
 * sees it (an object, `[name, value]` pairs or a flat list), and the replay of a held
 * writeHead. node:http gives writeHead's headers precedence over those set with setHeader,
 * so a Set-Cookie passed to writeHead would replace the commit's: such a call is replayed
 * with its headers moved into the response one by one, appending Set-Cookie.
 * @module
 */
import type { OutgoingHttpHeaders, ServerResponse } from "node:http";
import { forbidsSharedCaching, isCacheControl, NO_STORE } from "../shared/cache-control.js";
import { appendSetCookie } from "./write-response.js";

/** A response method as the hold calls it. */
export type AnyFn = (...args: unknown[]) => unknown;

/** Where the headers are among writeHead's arguments after the status: after a status message, if any. */
export function headersAt(rest: unknown[]): number {
  return typeof rest[0] === "string" ? 1 : 0;
}

/** Whether a header name is Set-Cookie, in any case (the length check skips most names cheaply). */
function isSetCookie(name: unknown): boolean {
  return typeof name === "string" && name.length === 10 && name.toLowerCase() === "set-cookie";
}

/** Whether headers passed to writeHead (an object, pairs or a flat list) name Set-Cookie. */
export function namesSetCookie(headers: unknown): boolean {
  if (headers === null || typeof headers !== "object") return false;
  if (Array.isArray(headers)) {
    const pairs = Array.isArray(headers[0]);
    for (let i = 0; i < headers.length; i += pairs ? 1 : 2) {
      if (isSetCookie(pairs ? (headers[i] as unknown[])[0] : headers[i])) return true;
    }
    return false;
  }
  for (const name in headers) if (isSetCookie(name)) return true;
  return false;
}

function pairUp(flat: unknown[]): Array<[string, unknown]> {
  const pairs: Array<[string, unknown]> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) pairs.push([String(flat[i]), flat[i + 1]]);
  return pairs;
}

/** Moves headers passed to writeHead into the response, appending Set-Cookie instead of replacing it. */
function absorbHeaders(res: ServerResponse, headers: unknown): void {
  const pairs: Array<[string, unknown]> = Array.isArray(headers)
    ? Array.isArray(headers[0])
      ? (headers as Array<[string, unknown]>)
      : pairUp(headers as unknown[])
    : Object.entries((headers ?? {}) as OutgoingHttpHeaders);
  for (const [name, value] of pairs) {
    if (value === undefined) continue;
    if (isSetCookie(name)) {
      for (const item of Array.isArray(value) ? value : [value]) appendSetCookie(res, String(item));
    } else {
      res.setHeader(name, value as string | number | readonly string[]);
    }
  }
}

/**
 * Replays a held `writeHead(status, ...rest)` through `writeHead` (the method it was held
 * from). Only when it names Set-Cookie and one is set already (the commit's, or the app's)
 * are its headers moved in one by one; any other call goes through as the app made it.
 */
export function replayWriteHead(writeHead: AnyFn, res: ServerResponse, status: unknown, rest: unknown[]): void {
  const headers = rest[headersAt(rest)];
  if (!namesSetCookie(headers) || res.getHeader("set-cookie") === undefined) {
    writeHead.call(res, status, ...rest);
    return;
  }
  absorbHeaders(res, headers);
  if (typeof rest[0] === "string") writeHead.call(res, status, rest[0]);
  else writeHead.call(res, status);
}

/**
 * Applies the `no-store` rule (see `shared/cache-control.ts`) to the headers of a held
 * writeHead's arguments `rest`, which node:http lets override the response's own: when
 * they name Cache-Control, a value that allows shared caching is replaced, in a copy (the
 * app's object is left as it was). False when they do not name it: the rule then applies
 * to the response's headers.
 */
export function noStoreInWriteHead(rest: unknown[]): boolean {
  const at = headersAt(rest);
  const headers = rest[at];
  if (headers === null || typeof headers !== "object") return false;
  if (!Array.isArray(headers)) {
    for (const name in headers) {
      if (!isCacheControl(name)) continue;
      if (!forbidsSharedCaching((headers as Record<string, unknown>)[name])) rest[at] = { ...headers, [name]: NO_STORE };
      return true;
    }
    return false;
  }
  const pairs = Array.isArray(headers[0]);
  for (let i = 0; i < headers.length; i += pairs ? 1 : 2) {
    const name = pairs ? (headers[i] as unknown[])[0] : headers[i];
    if (!isCacheControl(name)) continue;
    const value = pairs ? (headers[i] as unknown[])[1] : headers[i + 1];
    if (!forbidsSharedCaching(value)) {
      const copy = [...headers];
      if (pairs) copy[i] = [name, NO_STORE];
      else copy[i + 1] = NO_STORE;
      rest[at] = copy;
    }
    return true;
  }
  return false;
}
