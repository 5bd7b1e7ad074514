/**
 * `pgsession/express`: Express 5 middleware putting the session at `req.session`, and
 * {@link PgSessionStore}, a store for express-session.
 *
 * The response's first `writeHead`/`write`/`end` (so `res.send`, `res.json`,
 * `res.redirect`...) is held until the session is committed and its Set-Cookie appended:
 * a login, logout or rotation never answers 2xx unless it is stored. A database failure
 * answers 503 with no Set-Cookie; a session revoked while the request ran answers 409 and
 * clears the cookie. Other errors go to `next(err)`; pgsession's errors carry a
 * `statusCode` (503, 409) that Express's error handler uses.
 *
 * Types: `req.session` is declared on `Express.Request`. Apps that also use
 * express-session's types should import `PgSessionStore` from `pgsession/express-session`,
 * which declares nothing.
 * @module
 */
import type { ServerResponse } from "node:http";
import express, { type NextFunction, type Request, type RequestHandler, type Response } from "express";
import type { Session, SessionData } from "../session/session.js";
import type { Sessions } from "../manager/manager.js";
import { installHeldOutput, sendAnswer, startNodeSession, type NodeErrorHandler, type NodeFailureOptions } from "./node-carrier.js";

export { PgSessionStore, type PgSessionStoreOptions, type StoredExpressSession } from "./express-store.js";
export type { NodeErrorHandler, NodeFailureOptions as ExpressSessionOptions } from "./node-carrier.js";

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    /** The data of `req.session`; augment it to type your keys. */
    interface PgSessionData extends Record<string, unknown> {}
    interface Request {
      /** The request's pgsession session (set by `sessionMiddleware`). */
      session: Session<PgSessionData>;
    }
  }
}

/**
 * Creates the middleware. Mount it before the routes that use `req.session`.
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
export function sessionMiddleware<Data extends SessionData = Express.PgSessionData>(
  sessions: Sessions<Data>, options: NodeFailureOptions = {},
): RequestHandler {
  // Shared by all requests (startNodeSession passes the request and response): no closure per request.
  const onOther: NodeErrorHandler = (err, _req, res) => {
    // Past next(): the response is ours to answer; Express's error chain has moved on.
    console.error("pgsession: committing the session failed:", err);
    const status = typeof (err as { statusCode?: unknown })?.statusCode === "number" ? (err as { statusCode: number }).statusCode : 500;
    if (!sendAnswer(res, { status, headers: [["Content-Type", "text/plain; charset=utf-8"]], body: "Internal Server Error\n" })) res.destroy();
  };
  // Responses are held through Express's shared response prototype: adding the holding
  // methods to each response would cost a new V8 hidden class per property (see installHeldOutput).
  const shared = installHeldOutput(express.response);
  const sessionSlot = installSessionSlot(express.request);
  if (shared && sessionSlot) shared.onRelease ??= (res) => settleSession(sessionSlot, res);
  // A plain function, not an async one: Express 5's router attaches a rejection handler to
  // every promise a middleware returns (a closure and a promise reaction per request).
  return function pgsession(req: Request, res: Response, next: NextFunction): void {
    startNodeSession(sessions, req, res, options, onOther, shared).then((run) => {
      if (!run) return;
      if (sessionSlot && !Object.hasOwn(req, "session") && express.request.isPrototypeOf(req)) sessionSlot.set(req, run.session);
      else (req as unknown as { session: Session<Data> }).session = run.session;
      try {
        next();
      } catch (err) {
        // What the router does with a rejected middleware promise; never an unhandled rejection.
        next(err);
      }
    }, next);
  };
}

const SESSION_SLOT = Symbol("pgsession.sessionSlot");
// Where a request's session is kept once its response is released: on `res.locals`, the
// null-prototype object Express gives each response (adding a key to it builds no hidden
// class). A symbol key stays out of `Object.keys`, `for...in` and JSON, so templates and
// serializers never see it.
const SETTLED_SESSION = Symbol("pgsession.session");

/**
 * Moves a request's session out of the slot's WeakMap once its response holds nothing.
 * Why: V8's scavenger keeps a WeakMap's values alive as long as the entry exists, even
 * once its key is dead, so every finished request's session was copied, and soon promoted,
 * by the next scavenge (measured at 2.5-4 µs per request). During the request the WeakMap
 * answers, whatever the app does to `res.locals`; afterwards (a logger on "finish", say)
 * `res.locals` does. So an app that replaces `res.locals` after the response was released
 * (a handler still running when the client went away) reads `req.session` as undefined.
 */
function settleSession(slot: WeakMap<object, unknown>, res: ServerResponse): void {
  const req = (res as ServerResponse & { req?: object }).req;
  if (!req) return;
  const session = slot.get(req);
  if (session === undefined) return;
  const locals = (res as unknown as { locals?: unknown }).locals;
  // Kept in the WeakMap (as before) when there is nowhere else to put it.
  if (typeof locals !== "object" || locals === null || !Object.isExtensible(locals)) return;
  (locals as Record<symbol, unknown>)[SETTLED_SESSION] = session;
  slot.delete(req);
}

/**
 * Makes `req.session` an accessor on a prototype every request of a framework inherits
 * (Express's `express.request`), reading the session from a WeakMap: setting it then adds
 * nothing to the request. Express gives each request a prototype of its own, and V8 builds
 * a new hidden class for every property later added to such an object (about 4.5 µs, see
 * `installHeldOutput`). An app that assigns `req.session` itself gets an ordinary own
 * property, as before. Null when the prototype already defines `session` (it wins; the
 * session is then assigned to each request).
 */
function installSessionSlot(prototype: object): WeakMap<object, unknown> | null {
  const target = prototype as Record<string | symbol, unknown>;
  if (Object.hasOwn(target, SESSION_SLOT)) return target[SESSION_SLOT] as WeakMap<object, unknown> | null;
  if (!Object.isExtensible(prototype)) return null;
  if (Object.hasOwn(target, "session")) {
    Object.defineProperty(target, SESSION_SLOT, { value: null });
    return null;
  }
  const slot = new WeakMap<object, unknown>();
  Object.defineProperties(prototype, {
    session: {
      configurable: true,
      get(this: object) {
        const session = slot.get(this);
        if (session !== undefined) return session;
        // Settled (see settleSession): on the response's locals.
        const locals = (this as { res?: { locals?: Record<symbol, unknown> } }).res?.locals;
        return typeof locals === "object" && locals !== null ? locals[SETTLED_SESSION] : undefined;
      },
      set(this: object, value: unknown) {
        Object.defineProperty(this, "session", { configurable: true, enumerable: true, writable: true, value });
      },
    },
    [SESSION_SLOT]: { value: slot },
  });
  return slot;
}
