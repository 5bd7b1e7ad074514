/**
 * Internal: what every adapter answers when the session cannot be read or written. One
 * place, so that all runtimes fail the same way.
 *
 * - `SessionStoreError` (database down, pool exhausted, timeout): 503, the client's cookie
 *   left alone, no new anonymous session. The one Set-Cookie a 503 can carry is for what
 *   is already stored: the new token of a login or rotation that succeeded before a later
 *   write of the same request failed (else the client would keep a token that dies).
 * - `SessionGoneError` at commit (the session was logged out, revoked or expired while
 *   the request ran; nothing was written): 409 with a clearing cookie, so that the app's
 *   own 2xx, which claimed a write that did not happen, is never sent.
 * - `SessionConflictError` (a compare-and-set save lost the race, or a rotation or login
 *   used a token another request had already rotated): 409, the cookie left alone (the
 *   session still exists; the client retries with its current token).
 * @module
 */
import { serializeSessionCookie } from "../session/cookie.js";
import { SessionConflictError, SessionGoneError, SessionStoreError } from "../errors.js";
import type { Sessions } from "../manager/manager.js";

/** A response as plain values, for any runtime to send. */
export interface PlainAnswer {
  status: number;
  headers: Array<[string, string]>;
  body: string;
}

/** How an error raised by pgsession is answered by default, or null: not ours, rethrow. */
export type ErrorKind = "store" | "gone" | "conflict" | null;

/** Sorts an error into the failures adapters answer themselves. */
export function kindOf(err: unknown): ErrorKind {
  if (err instanceof SessionStoreError) return "store";
  if (err instanceof SessionGoneError) return "gone";
  if (err instanceof SessionConflictError) return "conflict";
  return null;
}

/** The default answer to a {@link SessionStoreError}: 503, with `storedCookie` (see `Sessions.unsentCookie`) if any. */
export function storeErrorAnswer(storedCookie: string | null = null): PlainAnswer {
  return {
    status: 503,
    headers: [
      ["Content-Type", "text/plain; charset=utf-8"], ["Retry-After", "5"], ["Cache-Control", "no-store"],
      ...(storedCookie === null ? [] : [["Set-Cookie", storedCookie] as [string, string]]),
    ],
    body: "Service Unavailable: the session store cannot be reached\n",
  };
}

/** The default answer to a {@link SessionConflictError}: 409, with `storedCookie` (see `Sessions.unsentCookie`) if any. */
export function conflictAnswer(storedCookie: string | null = null): PlainAnswer {
  return {
    status: 409,
    headers: [
      ["Content-Type", "text/plain; charset=utf-8"], ["Cache-Control", "no-store"],
      ...(storedCookie === null ? [] : [["Set-Cookie", storedCookie] as [string, string]]),
    ],
    body: "Conflict: another request changed this session first; nothing was saved. Try again.\n",
  };
}

/** A Set-Cookie value that deletes the session cookie in the browser. */
export function clearingCookie(sessions: Sessions<any>, secure: boolean): string {
  return serializeSessionCookie(sessions.options.cookie, { value: "", maxAgeMs: 0, secure, now: new Date() });
}

/** The default answer to a {@link SessionGoneError} at commit: 409 and a clearing cookie. */
export function goneAnswer(sessions: Sessions<any>, secure: boolean): PlainAnswer {
  return {
    status: 409,
    headers: [["Content-Type", "text/plain; charset=utf-8"], ["Cache-Control", "no-store"], ["Set-Cookie", clearingCookie(sessions, secure)]],
    body: "Conflict: the session ended while this request ran; nothing was saved\n",
  };
}
