/**
 * `pgsession/hono`: Hono middleware putting the session at `c.get("session")`.
 *
 * The session is committed after the rest of the chain ran and before the middleware
 * returns, so the Set-Cookie is on the Response before Hono sends it. A database failure
 * (while resolving, in a handler's `login()`/`logout()`, or at commit) answers 503 with no
 * Set-Cookie (except the new token of a login or rotation already stored); a session revoked while the request ran answers 409 and clears the cookie.
 * @module
 */
import type { MiddlewareHandler } from "hono";
import type { Session } from "../session/session.js";
import type { RegisteredSessionData } from "../session/register.js";
import type { Sessions } from "../manager/manager.js";
import { runWithSession, type FetchSessionOptions } from "./fetch/run.js";
import { kindOf } from "./shared/failure.js";
import { checkOptions, checkSessions, FAILURE_OPTIONS } from "./shared/options.js";

export type { FetchErrorHandler, FetchSessionOptions as HonoSessionOptions } from "./fetch/run.js";

declare module "hono" {
  interface ContextVariableMap {
    /** The request's pgsession session (set by `sessionMiddleware`), its data typed by pgsession's `Register`. */
    session: Session<RegisteredSessionData>;
  }
}

/**
 * The variables the middleware sets. `c.get("session")` is typed without them (through
 * Hono's `ContextVariableMap` and pgsession's `Register`); name them to type the data of
 * one app otherwise: `new Hono<{ Variables: SessionVariables<MyData> }>()`.
 *
 * @example
 * ```ts
 * const app = new Hono<{ Variables: SessionVariables<{ visits: number }> }>();
 * app.get("/", (c) => c.text(String(c.get("session").get("visits") ?? 0)));
 * ```
 */
export type SessionVariables<Data extends object = RegisteredSessionData> = {
  /** The request's session. */
  session: Session<Data>;
};

/**
 * Creates the session middleware.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { sessionMiddleware } from "pgsession/hono";
 * const app = new Hono();
 * app.use(sessionMiddleware(sessions));
 * app.post("/login", async (c) => { await c.get("session").login("alice"); return c.text("hi"); });
 * ```
 */
export function sessionMiddleware<Data extends object = RegisteredSessionData>(
  sessions: Sessions<Data>,
  options: FetchSessionOptions = {},
): MiddlewareHandler<{
  /** What the middleware sets on the context: `c.get("session")`. */
  Variables: SessionVariables<Data>;
}> {
  checkSessions(sessions);
  checkOptions(options, FAILURE_OPTIONS, "sessionMiddleware");
  return async function pgsession(c, next) {
    const response = await runWithSession(sessions, c.req.raw, options, async (session) => {
      c.set("session", session);
      await next();
      // Hono turned a handler's error into c.res already; ours must answer as ours.
      if (kindOf(c.error) !== null) throw c.error;
      return c.res;
    });
    if (response !== c.res) {
      // Not a merge with the app's response (Hono's setter would copy its headers and cookies in).
      c.res = undefined;
      c.res = response;
    }
  };
}
