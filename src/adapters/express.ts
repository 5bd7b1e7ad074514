/**
 * `pgsession/express`: Express middleware (Express 4.18+ and 5) putting the session at
 * `req.session`, and {@link PgSessionStore}, a store for express-session.
 *
 * The response's first `writeHead`/`write`/`end` (so `res.send`, `res.json`,
 * `res.redirect`...) is held until the session is committed and its Set-Cookie appended:
 * a login, logout or rotation never answers 2xx unless it is stored. A database failure
 * answers 503 with no Set-Cookie; a session revoked while the request ran answers 409 and
 * clears the cookie. Other errors go to `next(err)`; pgsession's errors carry a
 * `statusCode` (503, 409) that Express's error handler uses.
 *
 * Nothing outside the request is changed: the response is held on its own instance, and
 * `req.session` is an ordinary property of the request (no Express prototype is touched).
 *
 * Types: `req.session` is declared on the `Request` of `express-serve-static-core` (the
 * interface behind Express's `Request`, 4 and 5), typed with the data registered in
 * pgsession's `Register`. Not on the global `Express.Request`, where express-session's
 * types declare a `session` of their own: an interface can hold one `session` only, and
 * two declarations of it fail to compile (TS2717). Declared one level down, it compiles
 * next to theirs; with both in a program `req.session` has both types (drop
 * `@types/express-session` once the app no longer uses express-session). Apps that use
 * express-session import `PgSessionStore` from `pgsession/express-session`, which
 * declares nothing.
 * @module
 */
import type { NextFunction, Request, RequestHandler, Response } from "express";
import type { IncomingMessage } from "node:http";
import type { RequestContext, Session } from "../session/session.js";
import type { RegisteredSessionData } from "../session/register.js";
import type { Sessions } from "../manager/manager.js";
import { startNodeSession, type NodeErrorHandler, type NodeFailureOptions } from "./node/run.js";
import { sendAnswer } from "./node/write-response.js";
import { otherErrorAnswer } from "./shared/failure.js";
import { checkOptions, checkSessions, FAILURE_OPTIONS } from "./shared/options.js";

export { PgSessionStore, type PgSessionStoreOptions, type StoredExpressSession } from "./express-store.js";
export type { NodeErrorHandler, NodeFailureOptions as ExpressSessionOptions } from "./node/run.js";

/**
 * The type of `req.session`: pgsession's session with the registered data, and whatever
 * another library's types (express-session's) declare at `Express.Request["session"]`,
 * which the Request that pgsession declares it on extends.
 */
type ExpressRequestSession = Session<RegisteredSessionData> & (Express.Request extends { session?: infer Theirs } ? Theirs : unknown);

declare module "express-serve-static-core" {
  interface Request {
    /** The request's pgsession session (set by `sessionMiddleware`), its data typed by pgsession's `Register`. */
    session: ExpressRequestSession;
  }
}

/**
 * A request's context as Express sees it through its `trust proxy` setting (`req.secure`,
 * `req.ip`), read only when the core needs it (a cookie's Secure attribute, a new
 * session's ip): Express computes both on every access.
 */
class ExpressContext implements RequestContext {
  constructor(readonly req: Request) {}
  get secure(): boolean {
    return this.req.secure;
  }
  get ip(): string | null {
    return this.req.ip ?? null;
  }
  get userAgent(): string | null {
    return this.req.headers["user-agent"] ?? null;
  }
}

const expressContext = (req: IncomingMessage): RequestContext => new ExpressContext(req as Request);

/**
 * Creates the middleware. Mount it before the routes that use `req.session`.
 *
 * @typeParam Data - The session data. Default: the type registered in pgsession's
 * `Register` (what `req.session` holds):
 * `declare module "pgsession" { interface Register { data: { visits?: number } } }`.
 *
 * @example
 * ```ts
 * import express from "express";
 * import { sessionMiddleware } from "pgsession/express";
 * const app = express();
 * app.use(sessionMiddleware(sessions));
 * app.post("/login", async (req, res) => { await req.session.login("alice"); res.json({ ok: true }); });
 * ```
 */
export function sessionMiddleware<Data extends object = RegisteredSessionData>(
  sessions: Sessions<Data>,
  options: NodeFailureOptions = {},
): RequestHandler {
  checkSessions(sessions);
  checkOptions(options, FAILURE_OPTIONS, "sessionMiddleware");
  // Shared by all requests (startNodeSession passes the request and response): no closure per request.
  const onOther: NodeErrorHandler = (err, _req, res) => {
    // Past next(): the response is ours to answer; Express's error chain has moved on.
    console.error("pgsession: committing the session failed:", err);
    if (!sendAnswer(res, otherErrorAnswer(err, true))) res.destroy();
  };
  // A plain function, not an async one: Express 5's router attaches a rejection handler to
  // every promise a middleware returns (a closure and a promise reaction per request), and
  // Express 4's ignores it (a rejection would go unhandled).
  return function pgsession(req: Request, res: Response, next: NextFunction): void {
    startNodeSession(sessions, req, res, options, onOther, expressContext).then((run) => {
      if (!run) return;
      (req as unknown as { session: Session<Data> }).session = run.session;
      try {
        next();
      } catch (err) {
        // What the router does with a rejected middleware promise; never an unhandled rejection.
        next(err);
      }
    }, next);
  };
}
