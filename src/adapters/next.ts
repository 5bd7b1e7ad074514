/**
 * `pgsession/next`: sessions in the Next.js App Router.
 *
 * - Server Components (and the proxy): {@link readSession}, read-only. A page cannot set a
 *   cookie, so the session is read without its due touch (the next request that can write
 *   makes it) and refuses every change with `SessionReadOnlyError`.
 * - Server Actions: {@link updateSession}, through Next's `cookies()`: the session is
 *   committed after the callback and its cookie set with exactly pgsession's attributes.
 * - Route Handlers: {@link withSession}, on the Request and the Response like
 *   `pgsession/fetch`: a database failure answers 503 with no cookie change, a session
 *   revoked while the request ran 409 with a clearing cookie.
 * @module
 */
import type { Sessions } from "../manager/manager.js";
import type { RegisteredSessionData } from "../session/register.js";
import type { TrustProxy } from "../session/request-context.js";
import type { Session } from "../session/session.js";
import type { FetchSessionOptions } from "./fetch/run.js";
import { withSession as fetchWithSession } from "./fetch.js";
import { readNextRequest, setCookieIn } from "./next/request.js";
import { failureCookieBeside, kindOf } from "./shared/failure.js";
import { checkOptions, checkSessions, checkValue, type OptionSpec } from "./shared/options.js";

export type { FetchErrorHandler, FetchSessionOptions as NextRouteOptions } from "./fetch/run.js";

/**
 * Options of {@link updateSession}.
 *
 * @example
 * ```ts
 * await updateSession(sessions, (session) => session.set("theme", "dark"), { trustProxy: true });
 * ```
 */
export interface NextSessionOptions {
  /** Proxies to believe for `X-Forwarded-Proto`/`X-Forwarded-For` (`true`: one). Default: the `trustProxy` of `createSessions`, else none. */
  trustProxy?: TrustProxy;
  /** Read the session from the database even when the read cache (`createSessions({ cache })`) holds it. Default `false`. */
  fresh?: boolean;
}

const UPDATE_OPTIONS: OptionSpec = { trustProxy: "trust", fresh: "boolean" };

/**
 * The session of the request being rendered, read-only: for Server Components, which
 * cannot set a cookie, and for the proxy. One read of the database, without the due touch;
 * `set`, `delete`, `clear`, `login`, `rotate`, `logout` and a commit throw
 * `SessionReadOnlyError`. After a Server Action that set the cookie, the render that
 * follows sees the new session. Rejects with `SessionStoreError` when the database fails
 * (Next then renders the nearest `error.tsx`); no cookie changes.
 *
 * @example
 * ```tsx
 * // app/page.tsx (a Server Component)
 * import { readSession } from "pgsession/next";
 * export default async function Page() {
 *   const session = await readSession(sessions);
 *   return <p>{session.isAuthenticated ? `Hello ${session.userId}` : "Not signed in"}</p>;
 * }
 * // Several components of one render: share one read with React's cache().
 * export const currentSession = cache(() => readSession(sessions));
 * ```
 */
export async function readSession<Data extends object = RegisteredSessionData>(sessions: Sessions<Data>): Promise<Session<Data>> {
  checkSessions(sessions);
  const { cookieHeader } = await readNextRequest(sessions, false);
  return sessions.resolve(cookieHeader, { readOnly: true });
}

/**
 * Runs `update` on the session of the request being served, commits it, and sets its
 * cookie through Next's `cookies()`: for Server Actions (and Route Handlers that use
 * `cookies()`). Resolves to what `update` returns, once the session is stored.
 *
 * Failures reject, and Next renders the nearest `error.tsx`: a `SessionStoreError` leaves
 * the cookie alone; a session revoked while the request ran (`SessionGoneError`) clears
 * it; a login or rotation already stored when a later step failed still sets its new
 * token, so the browser never keeps a token that no longer works. No cookie is ever set
 * for a token that was not stored. Call Next's `redirect()` after `updateSession`
 * returns: it throws, and thrown inside `update` it skips the commit.
 *
 * @example
 * ```ts
 * // app/actions.ts
 * "use server";
 * import { updateSession } from "pgsession/next";
 * export async function increment() {
 *   await updateSession(sessions, (session) => {
 *     session.set("count", (session.get("count") ?? 0) + 1);
 *   });
 * }
 * ```
 */
export async function updateSession<Data extends object = RegisteredSessionData, Result = void>(
  sessions: Sessions<Data>,
  update: (session: Session<Data>) => Result | Promise<Result>,
  options: NextSessionOptions = {},
): Promise<Result> {
  checkSessions(sessions);
  checkValue("update", "function", update, false);
  checkOptions(options, UPDATE_OPTIONS, "updateSession");
  const { jar, cookieHeader, context } = await readNextRequest(sessions, options.trustProxy ?? sessions.options.trustProxy ?? false);
  if (options.fresh === true) context.fresh = true;
  const session = await sessions.resolve(cookieHeader, context);
  try {
    const result = await update(session);
    const setCookie = await sessions.commit(session);
    if (setCookie !== null) setCookieIn(jar, setCookie);
    return result;
  } catch (err) {
    const kind = kindOf(err);
    const cookie =
      kind === null
        ? sessions.unsentCookie(session)
        : failureCookieBeside(kind, { sessions, session, secure: context.secure === true }, []);
    if (cookie !== null) setCookieIn(jar, cookie);
    throw err;
  }
}

/**
 * A Route Handler that receives the request's session (and Next's route context).
 *
 * @example
 * ```ts
 * const handler: NextRouteHandler<{ count: number }, Request, []> = (request, session) => Response.json({ id: session.id });
 * ```
 */
export type NextRouteHandler<Data extends object, Req extends Request, Args extends unknown[]> = (
  request: Req,
  session: Session<Data>,
  ...args: Args
) => Response | Promise<Response>;

/**
 * Wraps a Route Handler: resolves the session from the Request's Cookie header, passes it
 * in, commits it after the handler returns its Response, and appends the Set-Cookie to
 * that Response. The request may be typed as Next's `NextRequest`, and Next's second
 * argument (`{ params }`) is passed on. A database failure answers 503 with no
 * Set-Cookie; a session revoked while the request ran, 409 with a clearing cookie.
 *
 * @example
 * ```ts
 * // app/login/route.ts
 * import { withSession } from "pgsession/next";
 * export const POST = withSession(sessions, async (request, session) => {
 *   await session.login("alice");
 *   return Response.redirect(new URL("/", request.url), 303);
 * });
 * ```
 */
export function withSession<Data extends object = RegisteredSessionData, Req extends Request = Request, Args extends unknown[] = []>(
  sessions: Sessions<Data>,
  handler: NextRouteHandler<Data, Req, Args>,
  options: FetchSessionOptions = {},
): (request: Req, ...args: Args) => Promise<Response> {
  // pgsession/fetch's wrapper, typed for Next's request.
  return fetchWithSession<Data, Args, Req>(sessions, handler, options);
}
