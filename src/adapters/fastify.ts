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
import fp from "fastify-plugin";
import type { Session, SessionData } from "../session/session.js";
import type { Sessions } from "../manager/manager.js";
import { clearingCookie, conflictAnswer, goneAnswer, kindOf, storeErrorAnswer, type ErrorKind, type PlainAnswer } from "./answers.js";
import { readNodeRequest } from "./node-carrier.js";

declare module "fastify" {
  /** The data of `request.session`; augment it to type your keys. */
  interface FastifyPgSessionData extends Record<string, unknown> {}
  interface FastifyRequest {
    /** The request's pgsession session (set by the plugin). */
    session: Session<FastifyPgSessionData>;
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
  sessions: Sessions<any>;
  /** Believe `X-Forwarded-Proto`/`X-Forwarded-For`. Default: the `trustProxy` of `createSessions`. */
  trustProxy?: boolean;
  /** Answers a `SessionStoreError`. Default: 503 with no Set-Cookie (but the new token of a login or rotation already stored). */
  onStoreError?: FastifyErrorHandler;
  /** Answers a `SessionGoneError` at commit. Default: 409 and a clearing cookie. */
  onSessionGone?: FastifyErrorHandler;
}

/** Replaces the reply's status and headers with `answer`; returns its body. */
function answerWith(reply: FastifyReply, answer: PlainAnswer): string {
  for (const name of Object.keys(reply.getHeaders())) reply.removeHeader(name);
  reply.code(answer.status);
  for (const [name, value] of answer.headers) reply.header(name, value);
  return answer.body;
}

/** Whether the reply already sets the session cookie (the app's own cookies do not count). */
function setsSessionCookie(reply: FastifyReply, name: string): boolean {
  const value = reply.getHeader("set-cookie");
  const lines = value === undefined ? [] : Array.isArray(value) ? value : [String(value)];
  return lines.some((line) => String(line).startsWith(`${name}=`));
}

const plugin: FastifyPluginAsync<FastifySessionOptions> = async (fastify, options) => {
  const sessions = options.sessions;
  const trustProxy = options.trustProxy ?? sessions.options.trustProxy;
  // Requests whose failure is answered already, and how (a gone session also clears the cookie).
  const failed = new WeakMap<FastifyRequest, NonNullable<ErrorKind>>();
  const secureOf = (request: FastifyRequest) => readNodeRequest(request.raw, trustProxy).context.secure === true;
  const answer = (err: unknown, request: FastifyRequest, reply: FastifyReply): unknown => {
    failed.set(request, kindOf(err) ?? "store");
    const secure = secureOf(request);
    if (kindOf(err) === "store") {
      // Only a login, rotation or logout already stored changes the cookie of a 503.
      const stored = request.session ? sessions.unsentCookie(request.session) : null;
      if (!options.onStoreError) return answerWith(reply, storeErrorAnswer(stored));
      if (stored !== null) reply.header("set-cookie", stored);
      return options.onStoreError(err, request, reply);
    }
    if (kindOf(err) === "conflict") return answerWith(reply, conflictAnswer(request.session ? sessions.unsentCookie(request.session) : null));
    return options.onSessionGone ? options.onSessionGone(err, request, reply) : answerWith(reply, goneAnswer(sessions, secure));
  };

  // An onStoreError/onSessionGone that throws goes to `fail`: Fastify's error handler answers instead.
  const answerOrFail = (err: unknown, request: FastifyRequest, reply: FastifyReply, fail: (err: Error) => void): { body: unknown } | null => {
    try {
      return { body: answer(err, request, reply) };
    } catch (answerErr) {
      fail(answerErr as Error);
      return null;
    }
  };

  fastify.decorateRequest("session", null as unknown as Session<SessionData>);

  // Callback style, not async: an async hook costs a promise, an await and Fastify's
  // reaction to the returned promise on every request.
  fastify.addHook("onRequest", (request, reply, done) => {
    const { cookieHeader, context } = readNodeRequest(request.raw, trustProxy);
    sessions.resolve(cookieHeader, context).then((session) => {
      request.session = session;
      done();
    }, (err: unknown) => {
      if (kindOf(err) === null) return done(err as Error);
      const answered = answerOrFail(err, request, reply, done);
      // Answered here: done() is not called, so the route's handler never runs.
      if (answered) reply.send(answered.body);
    });
  });

  // A handler's store error (a failed login) is answered as it is: nothing more is committed.
  fastify.addHook("onError", async (request, _reply, err) => {
    const kind = kindOf(err);
    if (kind !== null) failed.set(request, kind);
  });

  // Callback style, not async: a request that changed nothing passes through synchronously,
  // so its reply ends within the handler's own tick. An async hook would leave the reply
  // unsent when an async handler returns `reply.send(...)`, and Fastify then awaits the
  // reply thenable through stream.finished (measured at about 20 µs per request).
  fastify.addHook("onSend", (request, reply, payload, done) => {
    const failure = failed.get(request);
    if (failure === "gone" && !setsSessionCookie(reply, sessions.options.cookie.name)) reply.header("set-cookie", clearingCookie(sessions, secureOf(request)));
    // A handler's store error after a stored login or rotation: the 503 carries the new token.
    const stored = (failure === "store" || failure === "conflict") && request.session ? sessions.unsentCookie(request.session) : null;
    if (stored !== null) reply.header("set-cookie", stored);
    if (failure !== undefined || !request.session || !sessions.needsCommit(request.session)) return done(null, payload);
    sessions.commit(request.session).then((setCookie) => {
      if (setCookie) reply.header("set-cookie", setCookie);
      done(null, payload);
    }, (err: unknown) => {
      if (kindOf(err) === null) return done(err as Error);
      const answered = answerOrFail(err, request, reply, done);
      if (answered) done(null, answered.body);
    });
  });
};

/**
 * The plugin. Register it once; it is not encapsulated (fastify-plugin), so every route
 * sees `request.session`.
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
export const pgsessionPlugin = fp(plugin, { fastify: "5.x", name: "pgsession" });
