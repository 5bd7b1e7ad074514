/**
 * Internal carrier for fetch's Request / Response, shared by `pgsession/fetch` and
 * `pgsession/hono`: read the cookie and context of a Request, run a handler with the
 * session, commit, and append Set-Cookie to the Response it returns (before anything of it
 * is sent: a Response is only sent once the handler returned it).
 * @module
 */
import { contextOf } from "../session/request-context.js";
import type { RequestContext, Session, SessionData } from "../session/session.js";
import type { Sessions } from "../manager/manager.js";
import { conflictAnswer, goneAnswer, kindOf, storeErrorAnswer, type PlainAnswer } from "./answers.js";

/**
 * Answers a failure with a Response.
 *
 * @example
 * ```ts
 * const onStoreError: FetchErrorHandler = () => new Response("try again soon", { status: 503, headers: { "retry-after": "30" } });
 * ```
 */
export type FetchErrorHandler = (err: unknown, request: Request) => Response | Promise<Response>;

/**
 * Options of the fetch and Hono adapters: proxy trust and failure answers.
 *
 * @example
 * ```ts
 * withSession(sessions, handler, { trustProxy: true, onSessionGone: () => Response.redirect("https://example.com/login", 303) });
 * ```
 */
export interface FetchSessionOptions {
  /** Believe `X-Forwarded-Proto`/`X-Forwarded-For`. Default: the `trustProxy` of `createSessions`. */
  trustProxy?: boolean;
  /** Answers a `SessionStoreError`. Default: 503 with no Set-Cookie (but the new token of a login or rotation already stored). */
  onStoreError?: FetchErrorHandler;
  /** Answers a `SessionGoneError` at commit. Default: 409 and a clearing cookie. */
  onSessionGone?: FetchErrorHandler;
}

/** The cookie header and context of a Request. `ip` comes from the runtime, when it tells. */
export function readFetchRequest(request: Request, trustProxy: boolean, ip?: string | null): { cookieHeader: string | null; context: RequestContext } {
  const headers = request.headers;
  const context = contextOf({
    tls: request.url.startsWith("https:"),
    remoteAddress: ip,
    forwardedProto: headers.get("x-forwarded-proto"),
    forwardedFor: headers.get("x-forwarded-for"),
    userAgent: headers.get("user-agent"),
  }, trustProxy);
  return { cookieHeader: headers.get("cookie"), context };
}

/** A Response from plain values. */
export function toResponse(answer: PlainAnswer): Response {
  const headers = new Headers();
  for (const [name, value] of answer.headers) headers.append(name, value);
  return new Response(answer.body, { status: answer.status, headers });
}

/** `response` with one more Set-Cookie (a copy when its headers are immutable, as after `Response.redirect`). */
export function appendSetCookie(response: Response, value: string): Response {
  try {
    response.headers.append("Set-Cookie", value);
    return response;
  } catch {
    const copy = new Response(response.body, response);
    copy.headers.append("Set-Cookie", value);
    return copy;
  }
}

/**
 * Resolves the session of `request`, runs `handler`, commits, and returns its Response with
 * the Set-Cookie appended. Store failures and gone sessions (from resolve, the handler or
 * the commit) are answered with the configured Responses; other errors are rethrown.
 */
export async function runWithSession<Data extends SessionData>(
  sessions: Sessions<Data>, request: Request, options: FetchSessionOptions,
  handler: (session: Session<Data>) => Response | Promise<Response>, ip?: string | null,
): Promise<Response> {
  const { cookieHeader, context } = readFetchRequest(request, options.trustProxy ?? sessions.options.trustProxy, ip);
  let session: Session<Data> | undefined;
  try {
    session = await sessions.resolve(cookieHeader, context);
    const response = await handler(session);
    const setCookie = await sessions.commit(session);
    return setCookie ? appendSetCookie(response, setCookie) : response;
  } catch (err) {
    const kind = kindOf(err);
    if (kind === "store") {
      // Only a login, rotation or logout already stored changes the cookie of a 503.
      const stored = session ? sessions.unsentCookie(session) : null;
      if (!options.onStoreError) return toResponse(storeErrorAnswer(stored));
      const answer = await options.onStoreError(err, request);
      return stored === null ? answer : appendSetCookie(answer, stored);
    }
    if (kind === "gone") return options.onSessionGone ? options.onSessionGone(err, request) : toResponse(goneAnswer(sessions, context.secure === true));
    if (kind === "conflict") return toResponse(conflictAnswer(session ? sessions.unsentCookie(session) : null));
    throw err;
  }
}
