/**
 * `pgsession/sveltekit`: a SvelteKit `handle` hook putting the session at
 * `event.locals.session`.
 *
 * The session is committed after `resolve(event)` returned the Response (pages, form
 * actions, endpoints, and the answers SvelteKit gives to `error()` and `redirect()`) and
 * before the hook returns it, so its Set-Cookie leaves with that Response, a redirect after
 * a login included. A database failure (while resolving, in a load function's or action's
 * `login()`/`rotate()`/`logout()`, or at commit) answers 503 with no Set-Cookie (except the
 * new token of a login or rotation already stored); a session revoked while the request
 * ran answers 409 and clears the cookie.
 * @module
 */
import type { Handle, RequestEvent } from "@sveltejs/kit";
import { stateOf, type Session } from "../session/session.js";
import type { RegisteredSessionData } from "../session/register.js";
import type { Sessions } from "../manager/manager.js";
import { runWithSession, type FetchSessionOptions } from "./fetch/run.js";
import { kindOf } from "./shared/failure.js";
import { checkOptions, checkSessions, FAILURE_OPTIONS } from "./shared/options.js";

export type { FetchErrorHandler, FetchSessionOptions as SvelteKitSessionOptions } from "./fetch/run.js";

/**
 * What the hook puts on `event.locals`. Declare it in `src/app.d.ts` to type
 * `locals.session` in every load function, action, endpoint and hook of the app.
 *
 * @example
 * ```ts
 * // src/app.d.ts
 * import type { SessionLocals } from "pgsession/sveltekit";
 *
 * declare global {
 *   namespace App {
 *     interface Locals extends SessionLocals<{ visits: number }> {}
 *   }
 * }
 * export {};
 * ```
 */
export interface SessionLocals<Data extends object = RegisteredSessionData> {
  /** The request's session (set by `sessionHandle`). */
  session: Session<Data>;
}

/**
 * Creates the session hook: `export const handle = sessionHandle(sessions)` in
 * `src/hooks.server.ts`, or one of the handles given to `sequence()` (after those that must
 * run without a session, before those that read it). The client address is
 * `event.getClientAddress()` (the adapter's, e.g. adapter-node's `ADDRESS_HEADER`), and
 * `trustProxy` applies to it as in `pgsession/fetch`; `Secure` follows the URL SvelteKit
 * sees (adapter-node's `ORIGIN` or `PROTOCOL_HEADER`). Change the session in load functions,
 * actions and endpoints, whose `redirect()` and `error()` SvelteKit answers before this hook
 * sees the Response; an error a later handle throws passes through uncommitted, as in
 * `pgsession/fetch`.
 *
 * @example
 * ```ts
 * // src/hooks.server.ts
 * import { redirect } from "@sveltejs/kit";
 * import { sequence } from "@sveltejs/kit/hooks";
 * import { sessionHandle } from "pgsession/sveltekit";
 * import { sessions } from "$lib/server/sessions";
 *
 * export const handle = sequence(sessionHandle(sessions), async ({ event, resolve }) => {
 *   if (event.url.pathname.startsWith("/account") && !event.locals.session.isAuthenticated) redirect(303, "/login");
 *   return resolve(event);
 * });
 * ```
 */
export function sessionHandle<Data extends object = RegisteredSessionData>(
  sessions: Sessions<Data>,
  options: FetchSessionOptions = {},
): Handle {
  checkSessions(sessions);
  checkOptions(options, FAILURE_OPTIONS, "sessionHandle");
  return function pgsession({ event, resolve }) {
    const run = async (session: Session<Data>): Promise<Response> => {
      (event.locals as SessionLocals<Data>).session = session;
      const response = await resolve(event);
      // SvelteKit answers an unexpected error of a load function, action or endpoint itself,
      // with 500: when the session's own login, rotation or logout failed, that failure is
      // answered as in every other adapter (503, or 409 and a clearing cookie) instead.
      const failure = stateOf(session).failure;
      if (response.status === 500 && kindOf(failure) !== null) throw failure;
      return response;
    };
    return runWithSession(sessions, event.request, options, run, clientAddress(event));
  };
}

/** `event.getClientAddress()`, or undefined where SvelteKit has no client to name (it throws while prerendering). */
function clientAddress(event: RequestEvent): string | undefined {
  try {
    return event.getClientAddress();
  } catch {
    return undefined;
  }
}
