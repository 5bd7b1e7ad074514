/**
 * `pgsession/h3`: sessions for h3 2 (and Nitro, and Nuxt's server routes, which run on it):
 * a middleware registered with `app.use(sessionMiddleware(sessions))`, and
 * {@link usePgSession}`(event)`, which returns the request's session in any handler.
 * The name is not `useSession`: h3 has a `useSession` of its own (a sealed-cookie session),
 * which Nitro and Nuxt import automatically.
 *
 * The session is committed after `await next()` returns the handler's value and before
 * h3 turns it into the response; the Set-Cookie goes on that response (through
 * `event.res.headers`, or on the `Response` the handler returned), next to the app's own.
 * A login, logout or rotation therefore never answers 2xx unless it is stored. A database
 * failure (while resolving, in a handler's `login()`/`logout()`, or at commit) answers 503
 * with no Set-Cookie (except the new token of a login or rotation already stored); a
 * session revoked while the request ran answers 409 and clears the cookie. Other errors,
 * thrown or returned, go on to h3's error handling, and the session is then not committed.
 * @module
 */
import type { H3Event, Middleware } from "h3";
import type { Session } from "../session/session.js";
import type { RegisteredSessionData } from "../session/register.js";
import type { TrustProxy } from "../session/request-context.js";
import type { Sessions } from "../manager/manager.js";
import { SessionConfigError } from "../errors.js";
import { readFetchRequest } from "./fetch/read-request.js";
import { appendSetCookie, toResponse } from "./fetch/write-response.js";
import { forbidsSharedCaching, NO_STORE } from "./shared/cache-control.js";
import { failureAnswer } from "./shared/failure.js";
import { checkOptions, checkSessions, FAILURE_OPTIONS } from "./shared/options.js";

declare module "h3" {
  interface H3EventContext {
    /** The request's pgsession session (set by `sessionMiddleware`); read it with `usePgSession(event)`. */
    pgsession?: Session<RegisteredSessionData>;
  }
}

/**
 * Answers a failure with anything an h3 handler may return (a `Response`, a string, an object...).
 *
 * @example
 * ```ts
 * const onStoreError: H3ErrorHandler = (_err, event) => { event.res.status = 503; return "try again soon"; };
 * ```
 */
export type H3ErrorHandler = (err: unknown, event: H3Event) => unknown;

/**
 * Options of {@link sessionMiddleware}.
 *
 * @example
 * ```ts
 * app.use(sessionMiddleware(sessions, { trustProxy: true, fresh: (event) => event.url.pathname.startsWith("/account") }));
 * ```
 */
export interface H3SessionOptions {
  /** Proxies to believe for `X-Forwarded-Proto`/`X-Forwarded-For` (`true`: one). Default: the `trustProxy` of `createSessions`, else none. */
  trustProxy?: TrustProxy;
  /**
   * Requests whose session is read from the database even when the read cache holds it
   * (`createSessions({ cache })`): sensitive routes, which must see a revocation made
   * elsewhere the moment it commits. Default: none.
   */
  fresh?: (event: H3Event) => boolean;
  /** Answers a `SessionStoreError`. Default: 503 with no Set-Cookie (but the new token of a login or rotation already stored). */
  onStoreError?: H3ErrorHandler;
  /** Answers a `SessionGoneError` at commit. Default: 409 and a clearing cookie. */
  onSessionGone?: H3ErrorHandler;
}

/**
 * Puts one Set-Cookie on what the handler returned: on its `Response` (h3 would drop the
 * prepared headers of a 4xx or 5xx one), else on h3's prepared headers, which it merges
 * into the response it makes. With `noStore`, also `Cache-Control: no-store` unless the
 * response keeps itself out of shared caches (see `shared/cache-control.ts`).
 */
function withCookie(event: H3Event, value: unknown, setCookie: string, noStore: boolean): unknown {
  if (value instanceof Response) return appendSetCookie(value, setCookie, noStore);
  const headers = event.res.headers;
  headers.append("set-cookie", setCookie);
  if (noStore && !forbidsSharedCaching(headers.get("cache-control"))) headers.set("cache-control", NO_STORE);
  return value;
}

/**
 * The client's address as h3's `getRequestIP` reads it without `xForwardedFor` (the
 * runtime's, or srvx's `request.ip`), without loading h3: the adapter imports only its types.
 */
function clientAddress(event: H3Event): string | undefined {
  const fromRuntime = event.req.context?.clientAddress;
  return typeof fromRuntime === "string" && fromRuntime !== "" ? fromRuntime : event.req.ip;
}

/**
 * Creates the session middleware. Register it with `app.use` before the routes that call
 * {@link usePgSession}.
 *
 * @typeParam Data - The session data. Default: the type registered in pgsession's `Register`.
 *
 * @example
 * ```ts
 * import { H3 } from "h3";
 * import { sessionMiddleware, usePgSession } from "pgsession/h3";
 * const app = new H3();
 * app.use(sessionMiddleware(sessions));
 * app.post("/login", async (event) => { await usePgSession(event).login("alice"); return { ok: true }; });
 * ```
 */
export function sessionMiddleware<Data extends object = RegisteredSessionData>(
  sessions: Sessions<Data>,
  options: H3SessionOptions = {},
): Middleware {
  checkSessions(sessions);
  checkOptions(options, FAILURE_OPTIONS, "sessionMiddleware");
  const noStore = sessions.options.noStore;
  const { fresh } = options;
  const trust = options.trustProxy ?? sessions.options.trustProxy ?? false;
  return async function pgsession(event: H3Event, next: () => unknown): Promise<unknown> {
    const { cookieHeader, context } = readFetchRequest(event.req, trust, clientAddress(event));
    if (fresh !== undefined && fresh(event)) context.fresh = true;
    let session: Session<Data> | undefined;
    try {
      session = await sessions.resolve(cookieHeader, context);
      event.context.pgsession = session as unknown as Session<RegisteredSessionData>;
      const value = await next();
      // A returned error is an error to h3: answered as a thrown one.
      if (value instanceof Error) throw value;
      if (!sessions.needsCommit(session)) return value;
      const setCookie = await sessions.commit(session);
      return setCookie === null ? value : withCookie(event, value, setCookie, noStore);
    } catch (err) {
      const failure = failureAnswer(err, { sessions, session, secure: context.secure === true }, options);
      if (failure === null) throw err;
      if (!failure.handler) return toResponse(failure.answer);
      const answer = await failure.handler(err, event);
      return failure.setCookie === null ? answer : withCookie(event, answer, failure.setCookie, noStore);
    }
  };
}

/**
 * The request's session, which {@link sessionMiddleware} resolved. Throws a
 * `SessionConfigError` when that middleware did not run for this request.
 *
 * @typeParam Data - The session data. Default: the type registered in pgsession's `Register`.
 *
 * @example
 * ```ts
 * app.get("/", (event) => {
 *   const session = usePgSession(event);
 *   session.set("visits", (session.get("visits") ?? 0) + 1);
 *   return { visits: session.get("visits") };
 * });
 * ```
 */
export function usePgSession<Data extends object = RegisteredSessionData>(event: H3Event): Session<Data> {
  const session = event.context.pgsession;
  if (session === undefined) {
    throw new SessionConfigError(
      "sessionMiddleware",
      "did not run for this request: app.use(sessionMiddleware(sessions)) before the routes",
    );
  }
  return session as unknown as Session<Data>;
}
