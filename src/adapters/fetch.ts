/**
 * `pgsession/fetch`: sessions for Request -> Response runtimes (Next.js route handlers,
 * Bun, Deno, Cloudflare-style servers, Node's own `fetch` types).
 *
 * The session is committed after the handler returns its Response and before that
 * Response is handed back, so its headers can never go out before the write they depend
 * on. A database failure answers 503 (no Set-Cookie, except the new token of a login or
 * rotation already stored); a session revoked while the request
 * ran answers 409 and clears the cookie. Other errors propagate.
 * @module
 */
import type { Session } from "../session/session.js";
import type { RegisteredSessionData } from "../session/register.js";
import type { Sessions } from "../manager/manager.js";
import { runWithSession, type FetchSessionOptions } from "./fetch/run.js";
import { checkOptions, checkSessions, checkValue, FAILURE_OPTIONS } from "./shared/options.js";

export type { FetchErrorHandler, FetchSessionOptions } from "./fetch/run.js";

/**
 * A fetch handler that receives the request's session (and whatever else the runtime passes).
 *
 * @example
 * ```ts
 * const handler: FetchSessionHandler<{ visits: number }, []> = (request, session) => Response.json({ id: session.id });
 * ```
 */
export type FetchSessionHandler<Data extends object, Args extends unknown[], Req extends Request = Request> = (
  request: Req,
  session: Session<Data>,
  ...args: Args
) => Response | Promise<Response>;

/**
 * Wraps a fetch handler: resolves the session from the Request's Cookie header, passes it
 * in, commits it, and appends the Set-Cookie header to the returned Response.
 *
 * @example
 * ```ts
 * import { withSession } from "pgsession/fetch";
 * export const POST = withSession(sessions, async (request, session) => {
 *   session.set("visits", ((session.get("visits") as number) ?? 0) + 1);
 *   return Response.json({ visits: session.get("visits") });
 * });
 * // Bun / Deno: serve({ fetch: withSession(sessions, handler) })
 * ```
 */
export function withSession<Data extends object = RegisteredSessionData, Args extends unknown[] = [], Req extends Request = Request>(
  sessions: Sessions<Data>,
  handler: FetchSessionHandler<Data, Args, Req>,
  options: FetchSessionOptions = {},
): (request: Req, ...args: Args) => Promise<Response> {
  checkSessions(sessions);
  checkValue("handler", "function", handler, false);
  checkOptions(options, FAILURE_OPTIONS, "withSession");
  return function pgsessionFetch(request: Req, ...args: Args): Promise<Response> {
    return runWithSession(sessions, request, options, (session) => handler(request, session, ...args));
  };
}
