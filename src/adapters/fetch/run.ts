/**
 * Internal: one request's session on fetch's Request / Response, for `pgsession/fetch`
 * and `pgsession/hono`: resolve it, run the handler, commit, and put the Set-Cookie on the
 * Response it returns; failures are answered as `shared/failure.ts` decides.
 * @module
 */
import type { Sessions } from "../../manager/manager.js";
import type { Session } from "../../session/session.js";
import { failureAnswer, type FailureContext } from "../shared/failure.js";
import type { TrustProxy } from "../../session/request-context.js";
import { readFetchRequest } from "./read-request.js";
import { appendSetCookie, toResponse } from "./write-response.js";

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
  /** Proxies to believe for `X-Forwarded-Proto`/`X-Forwarded-For` (`true`: one). Default: the `trustProxy` of `createSessions`, else none. */
  trustProxy?: TrustProxy;
  /**
   * Requests whose session is read from the database even when the read cache holds it
   * (`createSessions({ cache })`): sensitive routes, which must see a revocation made
   * elsewhere the moment it commits. Default: none.
   */
  fresh?: (request: Request) => boolean;
  /** Answers a `SessionStoreError`. Default: 503 with no Set-Cookie (but the new token of a login or rotation already stored). */
  onStoreError?: FetchErrorHandler;
  /** Answers a `SessionGoneError` at commit. Default: 409 and a clearing cookie. */
  onSessionGone?: FetchErrorHandler;
}

/**
 * Resolves the session of `request`, runs `handler`, commits, and returns its Response with
 * the Set-Cookie appended. The failures pgsession answers (from resolve, the handler or
 * the commit) are answered as `failureAnswer` decides; other errors are rethrown.
 */
export async function runWithSession<Data extends object>(
  sessions: Sessions<Data>,
  request: Request,
  options: FetchSessionOptions,
  handler: (session: Session<Data>) => Response | Promise<Response>,
  ip?: string | null,
): Promise<Response> {
  const { cookieHeader, context } = readFetchRequest(request, options.trustProxy ?? sessions.options.trustProxy ?? false, ip);
  if (options.fresh !== undefined && options.fresh(request)) context.fresh = true;
  let session: Session<Data> | undefined;
  try {
    session = await sessions.resolve(cookieHeader, context);
    const response = await handler(session);
    const setCookie = await sessions.commit(session);
    return setCookie ? appendSetCookie(response, setCookie, sessions.options.noStore) : response;
  } catch (err) {
    const answer = await failureResponse(err, { sessions, session, secure: context.secure === true }, options, request);
    if (answer === null) throw err;
    return answer;
  }
}

/**
 * The Response to a failure pgsession answers (see `shared/failure.ts`): pgsession's own,
 * or the app's handler's with the cookie that must go with it. Null for any other error.
 */
export async function failureResponse(
  err: unknown,
  context: FailureContext,
  options: FetchSessionOptions,
  request: Request,
): Promise<Response | null> {
  const failure = failureAnswer(err, context, options);
  if (failure === null) return null;
  if (!failure.handler) return toResponse(failure.answer);
  const answer = await failure.handler(err, request);
  return failure.setCookie === null ? answer : appendSetCookie(answer, failure.setCookie, context.sessions.options.noStore);
}
