/**
 * Internal: the one place that decides how every adapter answers a session that cannot be
 * read or written, so that all runtimes fail the same way. Adapters only send what this
 * module returns, in their framework's terms.
 *
 * - `SessionStoreError` (database down, pool exhausted, timeout): 503, the client's cookie
 *   left alone, no new anonymous session. The one Set-Cookie a 503 can carry is for what
 *   is already stored: the new token of a login or rotation that succeeded before a later
 *   write of the same request failed (else the client would keep a token that dies). The
 *   app's `onStoreError` may answer instead; that cookie still goes with its answer.
 * - `SessionGoneError` at commit (the session was logged out, revoked or expired while
 *   the request ran; nothing was written): 409 with a clearing cookie, so that the app's
 *   own 2xx, which claimed a write that did not happen, is never sent. The app's
 *   `onSessionGone` may answer instead.
 * - `SessionConflictError` (a compare-and-set save lost the race, or a rotation or login
 *   used a token another request had already rotated): 409, the cookie left alone but for
 *   a stored login's or rotation's token (the session still exists; the client retries).
 * @module
 */
import { SessionConflictError, SessionGoneError, SessionStoreError } from "../../errors.js";
import type { Sessions } from "../../manager/manager.js";
import { serializeSessionCookie } from "../../session/cookie.js";
import type { Session } from "../../session/session.js";
import { conflictAnswer, goneAnswer, serverErrorAnswer, storeErrorAnswer, type PlainAnswer } from "./answers.js";

export type { PlainAnswer } from "./answers.js";

/** The failures adapters answer themselves. */
export type FailureKind = "store" | "gone" | "conflict";

/** Sorts an error into the failures adapters answer themselves; null: not one of them (rethrow it). */
export function kindOf(err: unknown): FailureKind | null {
  if (err instanceof SessionStoreError) return "store";
  if (err instanceof SessionGoneError) return "gone";
  if (err instanceof SessionConflictError) return "conflict";
  return null;
}

/** What a failure's answer depends on. */
export interface FailureContext {
  readonly sessions: Sessions<object>;
  /** The request's session, when it was resolved before the failure. */
  readonly session: Session<object> | null | undefined;
  /** Whether the request is secure (the clearing cookie's `Secure` attribute). */
  readonly secure: boolean;
}

/** The app's own answers to failures, as the adapters' options name them. */
export interface FailureHandlers<Handler> {
  readonly onStoreError?: Handler | undefined;
  readonly onSessionGone?: Handler | undefined;
}

/**
 * How one failure is answered: pgsession's own `answer`, or the app's `handler`, whose
 * response must also carry `setCookie` (when not null).
 */
export type FailureAnswer<Handler> =
  | { readonly kind: FailureKind; readonly answer: PlainAnswer; readonly handler?: undefined }
  | { readonly kind: FailureKind; readonly answer?: undefined; readonly handler: Handler; readonly setCookie: string | null };

/**
 * The Set-Cookie that goes with any answer to a failure of this kind: for a gone session
 * the clearing cookie; otherwise the cookie of a login, rotation or logout already stored
 * but not yet sent, if any.
 */
function failureCookie(kind: FailureKind, context: FailureContext): string | null {
  const { sessions, session } = context;
  if (kind === "gone") {
    return serializeSessionCookie(sessions.options.cookie, { value: "", maxAgeMs: 0, secure: context.secure, now: new Date() });
  }
  return session ? sessions.unsentCookie(session) : null;
}

/**
 * The Set-Cookie to add to an answer someone else gave to a failure of this kind (the
 * framework's error handler, from the error's `statusCode`, or the app's own handler),
 * which already holds `setCookies`: {@link failureCookie}, except that a gone session's
 * clearing cookie is left out when that answer sets the session cookie itself.
 */
export function failureCookieBeside(kind: FailureKind, context: FailureContext, setCookies: readonly string[]): string | null {
  const name = `${context.sessions.options.cookie.name}=`;
  if (kind === "gone" && setCookies.some((line) => line.startsWith(name))) return null;
  return failureCookie(kind, context);
}

/**
 * Decides the answer to `err`: null when it is not a failure adapters answer (the adapter
 * passes it on as its framework does), else the app's handler for it, if it has one, or
 * pgsession's own answer.
 */
export function failureAnswer<Handler>(
  err: unknown,
  context: FailureContext,
  handlers: FailureHandlers<Handler> = {},
): FailureAnswer<Handler> | null {
  const kind = kindOf(err);
  if (kind === null) return null;
  const handler = kind === "store" ? handlers.onStoreError : kind === "gone" ? handlers.onSessionGone : undefined;
  // The app's answer to a gone session is its own: it decides whether to clear the cookie.
  if (handler) return { kind, handler, setCookie: kind === "store" ? failureCookie(kind, context) : null };
  const cookie = failureCookie(kind, context);
  if (kind === "store") return { kind, answer: storeErrorAnswer(cookie) };
  return { kind, answer: kind === "gone" ? goneAnswer(cookie as string) : conflictAnswer(cookie) };
}

/**
 * The answer to any other error, when the adapter must answer it itself: 500, or with
 * `errorStatus` the error's own numeric `statusCode`, as Express's final handler uses it.
 */
export function otherErrorAnswer(err: unknown, errorStatus: boolean): PlainAnswer {
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  return serverErrorAnswer(errorStatus && typeof status === "number" ? status : 500);
}
