/**
 * `pgsession/koa`: Koa 3 middleware putting the session at `ctx.session`.
 *
 * The session is committed after `await next()` returns, when the rest of the chain has
 * run and before Koa writes the response, and its Set-Cookie is appended next to the
 * app's own: a login, logout or rotation never answers 2xx unless it is stored. A database
 * failure (while resolving, in a handler's `login()`/`logout()`, or at commit) answers 503
 * with no Set-Cookie (except the new token of a login or rotation already stored); a
 * session revoked while the request ran answers 409 and clears the cookie. Other errors
 * propagate to Koa's error handling, and the session is then not committed.
 *
 * A handler that bypasses Koa (`ctx.respond = false`) and writes to `ctx.res` itself
 * owns that response: pgsession still commits after `next()` returns, and adds its cookie
 * if the headers have not gone out yet. Once they have, a changed session is stored but
 * its new cookie cannot be sent, and a failure can only be logged. Such a handler should
 * make its session changes through a response Koa writes.
 *
 * Types: `ctx.session` is declared on Koa's `DefaultContext` (the interface `@types/koa`
 * offers for augmentation), typed with the data registered in pgsession's `Register`.
 * @module
 */
import type { DefaultContext, DefaultState, Middleware, ParameterizedContext } from "koa";
import type { RequestContext, Session } from "../session/session.js";
import type { RegisteredSessionData } from "../session/register.js";
import type { TrustProxy } from "../session/request-context.js";
import type { Sessions } from "../manager/manager.js";
import { readNodeRequest } from "./node/read-request.js";
import { forbidsSharedCaching, NO_STORE } from "./shared/cache-control.js";
import { failureAnswer, type PlainAnswer } from "./shared/failure.js";
import { checkOptions, checkSessions, FAILURE_OPTIONS } from "./shared/options.js";

declare module "koa" {
  interface DefaultContext {
    /** The request's pgsession session (set by `sessionMiddleware`), its data typed by pgsession's `Register`. */
    session: Session<RegisteredSessionData>;
  }
}

/**
 * What the middleware adds to Koa's context. `ctx.session` is typed without it (through
 * `DefaultContext` and pgsession's `Register`); name it to type the data of one app
 * otherwise: `new Koa<DefaultState, SessionContext<MyData>>()`.
 *
 * @example
 * ```ts
 * const app = new Koa<DefaultState, SessionContext<{ visits: number }>>();
 * app.use((ctx) => { ctx.body = String(ctx.session.get("visits") ?? 0); });
 * ```
 */
export type SessionContext<Data extends object = RegisteredSessionData> = {
  /** The request's session. */
  session: Session<Data>;
};

/**
 * The Koa context the middleware and its callbacks (`fresh`, `onStoreError`, `onSessionGone`) receive.
 *
 * @example
 * ```ts
 * const fresh = (ctx: KoaContext) => ctx.path.startsWith("/account");
 * ```
 */
export type KoaContext = ParameterizedContext<DefaultState, DefaultContext>;

/**
 * Answers a failure: set `ctx.status` and `ctx.body` as a Koa middleware does.
 *
 * @example
 * ```ts
 * const onStoreError: KoaErrorHandler = (_err, ctx) => { ctx.status = 503; ctx.body = "try again soon"; };
 * ```
 */
export type KoaErrorHandler = (err: unknown, ctx: KoaContext) => unknown;

/**
 * Options of {@link sessionMiddleware}.
 *
 * @example
 * ```ts
 * app.use(sessionMiddleware(sessions, { trustProxy: true, fresh: (ctx) => ctx.path.startsWith("/account") }));
 * ```
 */
export interface KoaSessionOptions {
  /**
   * Proxies to believe for `X-Forwarded-Proto`/`X-Forwarded-For` (`true`: one). Default:
   * the `trustProxy` of `createSessions`; when neither is set, Koa's own `app.proxy`
   * (`ctx.secure`, `ctx.ip`).
   */
  trustProxy?: TrustProxy;
  /**
   * Requests whose session is read from the database even when the read cache holds it
   * (`createSessions({ cache })`): sensitive routes, which must see a revocation made
   * elsewhere the moment it commits. Default: none.
   */
  fresh?: (ctx: KoaContext) => boolean;
  /** Answers a `SessionStoreError`. Default: 503 with no Set-Cookie (but the new token of a login or rotation already stored). */
  onStoreError?: KoaErrorHandler;
  /** Answers a `SessionGoneError` at commit. Default: 409 and a clearing cookie. */
  onSessionGone?: KoaErrorHandler;
}

/**
 * A request's context as Koa sees it through `app.proxy` (`ctx.secure`, `ctx.ip`), read
 * only when the core needs it (a cookie's Secure attribute, a new session's ip).
 */
class KoaRequestContext implements RequestContext {
  constructor(readonly ctx: KoaContext) {}
  get secure(): boolean {
    return this.ctx.secure;
  }
  get ip(): string | null {
    return this.ctx.ip || null;
  }
  get userAgent(): string | null {
    return this.ctx.req.headers["user-agent"] ?? null;
  }
}

/**
 * Adds one Set-Cookie beside the app's; with `noStore`, also `Cache-Control: no-store`
 * unless the response's keeps it out of shared caches (see `shared/cache-control.ts`).
 * False once the headers went out (a handler that bypassed Koa).
 */
function addCookie(ctx: KoaContext, value: string, noStore: boolean): boolean {
  if (ctx.headerSent) return false;
  ctx.append("Set-Cookie", value);
  if (noStore && !forbidsSharedCaching(ctx.response.get("Cache-Control"))) ctx.set("Cache-Control", NO_STORE);
  return true;
}

/** Replaces whatever the response holds with `answer`, as Koa's own error answer does. */
function answerWith(ctx: KoaContext, answer: PlainAnswer): void {
  for (const name of ctx.res.getHeaderNames()) ctx.remove(name);
  ctx.status = answer.status;
  for (const [name, value] of answer.headers) ctx.append(name, value);
  ctx.body = answer.body;
}

/**
 * Creates the session middleware. Mount it before the middleware and routes that use
 * `ctx.session`.
 *
 * @typeParam Data - The session data. Default: the type registered in pgsession's
 * `Register` (what `ctx.session` holds).
 *
 * @example
 * ```ts
 * import Koa from "koa";
 * import { sessionMiddleware } from "pgsession/koa";
 * const app = new Koa();
 * app.use(sessionMiddleware(sessions));
 * app.use(async (ctx) => {
 *   if (ctx.path === "/login") await ctx.session.login("alice");
 *   ctx.body = { user: ctx.session.userId };
 * });
 * ```
 */
export function sessionMiddleware<Data extends object = RegisteredSessionData>(
  sessions: Sessions<Data>,
  options: KoaSessionOptions = {},
): Middleware<DefaultState, SessionContext<Data>> {
  checkSessions(sessions);
  checkOptions(options, FAILURE_OPTIONS, "sessionMiddleware");
  const trust = options.trustProxy ?? sessions.options.trustProxy;
  const noStore = sessions.options.noStore;
  const { fresh } = options;
  const contextOf = (ctx: KoaContext): { cookieHeader: string | undefined; context: RequestContext } =>
    trust === null
      ? { cookieHeader: ctx.req.headers.cookie, context: new KoaRequestContext(ctx) }
      : readNodeRequest(ctx.req, trust ?? false);

  const middleware = async function pgsession(ctx: KoaContext, next: () => Promise<unknown>): Promise<void> {
    const { cookieHeader, context } = contextOf(ctx);
    if (fresh !== undefined && fresh(ctx)) context.fresh = true;
    let session: Session<Data> | undefined;
    try {
      session = await sessions.resolve(cookieHeader, context);
      (ctx as unknown as SessionContext<Data>).session = session;
      await next();
      // A request that changed nothing passes through without another await.
      if (!sessions.needsCommit(session)) return;
      const setCookie = await sessions.commit(session);
      if (setCookie !== null && !addCookie(ctx, setCookie, noStore)) {
        console.error("pgsession: the session was stored after its response went out (ctx.respond = false); its cookie was not sent");
      }
    } catch (err) {
      const failure = failureAnswer(err, { sessions, session, secure: context.secure === true }, options);
      if (failure === null) throw err;
      if (ctx.headerSent) {
        console.error("pgsession: the session could not be stored after its response went out (ctx.respond = false):", err);
        return;
      }
      if (!failure.handler) return answerWith(ctx, failure.answer);
      await failure.handler(err, ctx);
      if (failure.setCookie !== null) addCookie(ctx, failure.setCookie, noStore);
    }
  };
  return middleware as unknown as Middleware<DefaultState, SessionContext<Data>>;
}
