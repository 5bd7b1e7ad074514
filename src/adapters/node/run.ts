/**
 * Internal: one request's session on node:http, for `pgsession/node` and
 * `pgsession/express`: resolve it, hold the response until it is committed, and answer
 * failures as `shared/failure.ts` decides.
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Sessions } from "../../manager/manager.js";
import type { TrustProxy } from "../../session/request-context.js";
import type { RequestContext, Session } from "../../session/session.js";
import { failureAnswer, kindOf } from "../shared/failure.js";
import { holdOutput, type OutputGate } from "./hold.js";
import { readNodeRequest } from "./read-request.js";
import { appendSetCookie, keepOutOfSharedCaches, sendAnswer } from "./write-response.js";

/**
 * Answers a failure on `res`.
 *
 * @example
 * ```ts
 * const onStoreError: NodeErrorHandler = (_err, _req, res) => { res.statusCode = 503; res.end("try again soon"); };
 * ```
 */
export type NodeErrorHandler = (err: unknown, req: IncomingMessage, res: ServerResponse) => void;

/**
 * Options of the node:http and Express adapters: proxy trust and failure answers.
 *
 * @example
 * ```ts
 * sessionMiddleware(sessions, { trustProxy: true, onStoreError: (_err, _req, res) => { res.statusCode = 503; res.end(); } });
 * ```
 */
export interface NodeFailureOptions {
  /**
   * Proxies to believe for `X-Forwarded-Proto`/`X-Forwarded-For` (`true`: one). Default:
   * the `trustProxy` of `createSessions`; when neither is set, Express's own `trust proxy`
   * setting (`req.secure`, `req.ip`), and no proxy for node:http.
   */
  trustProxy?: TrustProxy;
  /**
   * Requests whose session is read from the database even when the read cache holds it
   * (`createSessions({ cache })`): sensitive routes, which must see a revocation made
   * elsewhere the moment it commits. Default: none.
   */
  fresh?: (req: IncomingMessage) => boolean;
  /** Answers a `SessionStoreError`. Default: 503 with no Set-Cookie (but the new token of a login or rotation already stored). */
  onStoreError?: NodeErrorHandler;
  /** Answers a `SessionGoneError` at commit. Default: 409 and a clearing cookie. */
  onSessionGone?: NodeErrorHandler;
}

/** A resolved session and the gate holding its response. */
export interface NodeSessionRun<Data extends object> {
  session: Session<Data>;
  gate: OutputGate;
  /** Answers an error: the failures pgsession answers as `failureAnswer` decides, others through `onOther`. */
  fail(err: unknown): void;
}

/**
 * Resolves the session of `req` and holds `res` until it is committed. Resolves to null
 * when the store failed (the failure is answered), rethrows anything else. `onOther`
 * answers a failure that is not one pgsession answers itself. `frameworkContext` reads
 * the request's context the framework's way (its proxy settings) when no `trustProxy` is set.
 */
export async function startNodeSession<Data extends object>(
  sessions: Sessions<Data>,
  req: IncomingMessage,
  res: ServerResponse,
  options: NodeFailureOptions,
  onOther: NodeErrorHandler,
  frameworkContext?: (req: IncomingMessage) => RequestContext,
): Promise<NodeSessionRun<Data> | null> {
  const trust = options.trustProxy ?? sessions.options.trustProxy;
  let cookieHeader: string | undefined;
  let context: RequestContext;
  if (trust === null && frameworkContext) {
    cookieHeader = req.headers.cookie;
    context = frameworkContext(req);
  } else {
    ({ cookieHeader, context } = readNodeRequest(req, trust ?? false));
  }
  if (options.fresh !== undefined && options.fresh(req)) context.fresh = true;
  // Assigned once the response is held; fail() may run before (a resolve that failed).
  // eslint-disable-next-line prefer-const
  let gate: OutputGate | undefined;
  let session: Session<Data> | undefined;
  const fail = (err: unknown) => {
    const failure = failureAnswer(err, { sessions, session, secure: context.secure === true }, options);
    if (failure === null) return onOther(err, req, res);
    // A failure pgsession answers is answered as it is: nothing more is committed.
    gate?.abandon();
    if (failure.handler) {
      if (failure.setCookie !== null && appendSetCookie(res, failure.setCookie) && sessions.options.noStore) keepOutOfSharedCaches(res);
      failure.handler(err, req, res);
    } else {
      sendAnswer(res, failure.answer);
    }
  };
  try {
    session = await sessions.resolve(cookieHeader, context);
  } catch (err) {
    if (kindOf(err) !== "store") throw err;
    fail(err);
    return null;
  }
  const resolved = session;
  // The commit's promise itself, not an async wrapper around it: one await fewer per request.
  gate = holdOutput(
    res,
    () => sessions.commit(resolved),
    fail,
    () => !sessions.needsCommit(resolved),
    sessions.options.noStore,
  );
  return { session: resolved, gate, fail };
}
