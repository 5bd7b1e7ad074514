/**
 * Internal: how pgsession writes to a node:http response (`ServerResponse`): one more
 * Set-Cookie beside the app's, or a whole answer of its own, never after the headers went out.
 * @module
 */
import { OutgoingMessage, type ServerResponse } from "node:http";
import { forbidsSharedCaching, NO_STORE } from "../shared/cache-control.js";
import type { PlainAnswer } from "../shared/failure.js";

const HEADERS_SENT = Object.getOwnPropertyDescriptor(OutgoingMessage.prototype, "headersSent")?.get;

/**
 * Whether the headers really went out. While pgsession holds a response, `res.headersSent`
 * already says true to the app (see `hold.ts`), so node's own getter is asked.
 */
export function headersReallySent(res: ServerResponse): boolean {
  return HEADERS_SENT ? HEADERS_SENT.call(res) === true : res.headersSent;
}

/** Adds one Set-Cookie value, keeping those already set. False (and no write) once headers are sent. */
export function appendSetCookie(res: ServerResponse, value: string): boolean {
  if (headersReallySent(res)) return false;
  const existing = res.getHeader("set-cookie");
  const list = existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
  res.setHeader("Set-Cookie", [...list, value]);
  return true;
}

/**
 * Keeps a response that sets the session cookie out of shared caches (see
 * `shared/cache-control.ts`): `Cache-Control: no-store` unless the response already has
 * one with `no-store` or `private`. Nothing once headers are sent.
 */
export function keepOutOfSharedCaches(res: ServerResponse): void {
  if (headersReallySent(res) || forbidsSharedCaching(res.getHeader("cache-control"))) return;
  res.setHeader("Cache-Control", NO_STORE);
}

/** Replaces whatever the response holds with `answer` and ends it; false if headers already went out. */
export function sendAnswer(res: ServerResponse, answer: PlainAnswer): boolean {
  if (headersReallySent(res)) return false;
  for (const name of res.getHeaderNames()) res.removeHeader(name);
  res.statusCode = answer.status;
  for (const [name, value] of answer.headers) {
    if (name.toLowerCase() === "set-cookie") appendSetCookie(res, value);
    else res.setHeader(name, value);
  }
  res.end(answer.body);
  return true;
}
