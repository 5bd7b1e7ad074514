/**
 * `pgsession/fastify`: a Fastify 5 plugin putting the session at `request.session`.
 *
 * The session is resolved in `onRequest` and committed in `onSend`, which runs before the
 * reply's headers are written: the Set-Cookie is added, and a failed write replaces the
 * reply, so a login, logout or rotation never answers 2xx unless it is stored. A database
 * failure answers 503 with no Set-Cookie (except the new token of a login or rotation
 * already stored); a session revoked while the request ran answers
 * 409 and clears the cookie. pgsession's errors thrown by handlers carry a `statusCode`
 * (503, 409) that Fastify's error handler uses.
 * @module
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import type { TrustProxy } from "../session/request-context.js";
import type { RequestContext, Session } from "../session/session.js";
import type { RegisteredSessionData } from "../session/register.js";
import type { Sessions } from "../manager/manager.js";
import { unencapsulated } from "./fastify/unencapsulated.js";
import { readNodeRequest } from "./node/read-request.js";
import {
  failureAnswer,
  failureCookieBeside,
  kindOf,
  type FailureAnswer,
  type FailureContext,
  type FailureKind,
  type PlainAnswer,
} from "./shared/failure.js";
import { checkOptions, checkSessions, FAILURE_OPTIONS, type OptionSpec } from "./shared/options.js";
import { forbidsSharedCaching, NO_STORE } from "./shared/cache-control.js";

declare module "fastify" {
  interface FastifyRequest {
    /** The request's pgsession session (set by the plugin), its data typed by pgsession's `Register`. */
    session: Session<RegisteredSessionData>;
  }
}

/**
 * Answers a failure: set the reply's status and headers, return the payload to send.
 *
 * @example
 * ```ts
 * const onStoreError: FastifyErrorHandler = (_err, _request, reply) => { reply.code(503); return { error: "try again soon" }; };
 * ```
 */
export type FastifyErrorHandler = (err: unknown, request: FastifyRequest, reply: FastifyReply) => unknown;

/**
 * Options of {@link pgsessionPlugin}.
 *
 * @example
 * ```ts
 * await app.register(pgsessionPlugin, { sessions, trustProxy: true });
 * ```
 */
export interface FastifySessionOptions {
  /** The session manager from `createSessions`. */
  sessions: Sessions<object>;
  /**
   * Proxies to believe for `X-Forwarded-Proto`/`X-Forwarded-For` (`true`: one). Default:
   * the `trustProxy` of `createSessions`; when neither is set, Fastify's own `trustProxy`
   * (`request.protocol`, `request.ip`).
   */
  trustProxy?: TrustProxy;
  /**
   * Requests whose session is read from the database even when the read cache holds it
   * (`createSessions({ cache })`): sensitive routes, which must see a revocation made
   * elsewhere the moment it commits. Default: none.
   *
   * @example
   * ```ts
   * // app.get("/account/delete", { config: { fresh: true } }, handler)
   * await app.register(pgsessionPlugin, { sessions, fresh: (request) => request.routeOptions.config.fresh === true });
   * ```
   */
  fresh?: (request: FastifyRequest) => boolean;
  /** Answers a `SessionStoreError`. Default: 503 with no Set-Cookie (but the new token of a login or rotation already stored). */
  onStoreError?: FastifyErrorHandler;
  /** Answers a `SessionGoneError` at commit. Default: 409 and a clearing cookie. */
  onSessionGone?: FastifyErrorHandler;
}

/**
 * A request's context as Fastify sees it through its own `trustProxy` option, read only
 * when the core needs it (a cookie's Secure attribute, a new session's ip).
 */
class FastifyContext implements RequestContext {
  constructor(readonly request: FastifyRequest) {}
  get secure(): boolean {
    return this.request.protocol === "https";
  }
  get ip(): string | null {
    return this.request.ip ?? null;
  }
  get userAgent(): string | null {
    return this.request.headers["user-agent"] ?? null;
  }
}

/** Replaces the reply's status and headers with `answer`; returns its body. */
function answerWith(reply: FastifyReply, answer: PlainAnswer): string {
  for (const name of Object.keys(reply.getHeaders())) reply.removeHeader(name);
  reply.code(answer.status);
  for (const [name, value] of answer.headers) reply.header(name, value);
  return answer.body;
}

/**
 * Adds one Set-Cookie to the reply; with `noStore`, also `Cache-Control: no-store` unless
 * the reply's keeps it out of shared caches (see `shared/cache-control.ts`).
 */
function addCookie(reply: FastifyReply, value: string, noStore: boolean): void {
  reply.header("set-cookie", value);
  if (noStore && !forbidsSharedCaching(reply.getHeader("cache-control"))) reply.header("cache-control", NO_STORE);
}

/** The Set-Cookie lines the reply holds. */
function setCookiesOf(reply: FastifyReply): string[] {
  const value = reply.getHeader("set-cookie");
  return value === undefined ? [] : Array.isArray(value) ? value.map(String) : [String(value)];
}

// Fastify's own register options stay in the object it hands the plugin.
const PLUGIN_OPTIONS: OptionSpec = { sessions: "sessions", ...FAILURE_OPTIONS, prefix: "any", logLevel: "any", logSerializers: "any" };

const plugin: FastifyPluginAsync<FastifySessionOptions> = async (fastify, options) => {
  checkOptions(options, PLUGIN_OPTIONS, "pgsessionPlugin");
  checkSessions(options.sessions);
  const sessions = options.sessions;
  const trustProxy = options.trustProxy ?? sessions.options.trustProxy;
  // Unset in pgsession: Fastify's own trustProxy decides, through request.protocol and request.ip.
  const requestContext = (request: FastifyRequest): RequestContext =>
    trustProxy === null ? new FastifyContext(request) : readNodeRequest(request.raw, trustProxy).context;
  const fresh = options.fresh;
  const resolveContext =
    fresh === undefined
      ? requestContext
      : (request: FastifyRequest): RequestContext => {
          const context = requestContext(request);
          if (fresh(request)) context.fresh = true;
          return context;
        };
  // Requests whose failure is answered already, and which failure it was.
  const failed = new WeakMap<FastifyRequest, FailureKind>();
  const contextFor = (request: FastifyRequest): FailureContext => ({
    sessions,
    session: request.session,
    secure: requestContext(request).secure === true,
  });
  const answer = (failure: FailureAnswer<FastifyErrorHandler>, err: unknown, request: FastifyRequest, reply: FastifyReply): unknown => {
    failed.set(request, failure.kind);
    if (!failure.handler) return answerWith(reply, failure.answer);
    if (failure.setCookie !== null) addCookie(reply, failure.setCookie, sessions.options.noStore);
    return failure.handler(err, request, reply);
  };

  // Answers `err` if it is a failure pgsession answers; an onStoreError/onSessionGone that
  // throws goes to `fail`, and so does any other error: Fastify's error handler answers instead.
  const answerOrFail = (
    err: unknown,
    request: FastifyRequest,
    reply: FastifyReply,
    fail: (err: Error) => void,
  ): { body: unknown } | null => {
    const failure = failureAnswer(err, contextFor(request), options);
    if (failure === null) {
      fail(err as Error);
      return null;
    }
    try {
      return { body: answer(failure, err, request, reply) };
    } catch (answerErr) {
      fail(answerErr as Error);
      return null;
    }
  };

  // Typed as the declaration above, so that this compiles whatever data an app registers.
  fastify.decorateRequest("session", null as unknown as FastifyRequest["session"]);

  // Callback style, not async: an async hook costs a promise, an await and Fastify's
  // reaction to the returned promise on every request.
  fastify.addHook("onRequest", (request, reply, done) => {
    sessions.resolve(request.headers.cookie, resolveContext(request)).then(
      (session) => {
        request.session = session as FastifyRequest["session"];
        done();
      },
      (err: unknown) => {
        const answered = answerOrFail(err, request, reply, done);
        // Answered here: done() is not called, so the route's handler never runs.
        if (answered) reply.send(answered.body);
      },
    );
  });

  // A handler's store error (a failed login) is answered as it is: nothing more is committed.
  fastify.addHook("onError", async (request, _reply, err) => {
    const kind = kindOf(err);
    if (kind !== null) failed.set(request, kind);
  });

  // Callback style, not async: a request that changed nothing passes through synchronously,
  // so its reply ends within the handler's own tick. An async hook would leave the reply
  // unsent when an async handler returns `reply.send(...)`, and Fastify then awaits the
  // reply thenable through stream.finished, on every request.
  fastify.addHook("onSend", (request, reply, payload, done) => {
    const failure = failed.get(request);
    if (failure !== undefined) {
      // Answered by Fastify's error handler or the app's: the answer still carries the failure's cookie.
      const cookie = failureCookieBeside(failure, contextFor(request), setCookiesOf(reply));
      if (cookie !== null) addCookie(reply, cookie, sessions.options.noStore);
      return done(null, payload);
    }
    if (!request.session || !sessions.needsCommit(request.session)) return done(null, payload);
    sessions.commit(request.session).then(
      (setCookie) => {
        if (setCookie) addCookie(reply, setCookie, sessions.options.noStore);
        done(null, payload);
      },
      (err: unknown) => {
        const answered = answerOrFail(err, request, reply, done);
        if (answered) done(null, answered.body);
      },
    );
  });
};

/**
 * The plugin. Register it once; it is not encapsulated (as fastify-plugin would make it,
 * without depending on fastify-plugin), so every route sees `request.session`. Its name
 * is `"pgsession"`, for other plugins' `dependencies` and `fastify.hasPlugin()`.
 *
 * @example
 * ```ts
 * import Fastify from "fastify";
 * import { pgsessionPlugin } from "pgsession/fastify";
 * const app = Fastify();
 * await app.register(pgsessionPlugin, { sessions });
 * app.post("/login", async (request) => { await request.session.login("alice"); return { ok: true }; });
 * ```
 */
export const pgsessionPlugin: FastifyPluginAsync<FastifySessionOptions> = unencapsulated(plugin, "pgsession", "5.x");
