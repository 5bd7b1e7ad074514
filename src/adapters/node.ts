/**
 * `pgsession/node`: sessions for plain node:http servers.
 *
 * The session is committed, and its Set-Cookie appended, before the first byte of the
 * response goes out: the response's first `writeHead`/`write`/`end` is held until the
 * commit is stored. A login, logout or rotation therefore never answers 2xx unless it is
 * stored. A database failure answers 503 (no Set-Cookie, the cookie left alone, except the
 * new token of a login or rotation already stored); a session
 * revoked while the request ran answers 409 and clears the cookie. A handler that throws
 * after its response started has its connection closed (the response cannot complete).
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Session } from "../session/session.js";
import type { RegisteredSessionData } from "../session/register.js";
import type { Sessions } from "../manager/manager.js";
import { isThenable } from "../lib/thenable.js";
import { startNodeSession, type NodeErrorHandler, type NodeFailureOptions, type NodeSessionRun } from "./node/run.js";
import { sendAnswer } from "./node/write-response.js";
import { otherErrorAnswer } from "./shared/failure.js";
import { checkOptions, checkSessions, checkValue, FAILURE_OPTIONS, type OptionSpec } from "./shared/options.js";

/**
 * A node:http handler that receives the request's session.
 *
 * @example
 * ```ts
 * const handler: SessionHandler = (req, res, session) => res.end(session.isAuthenticated ? "hi" : "who?");
 * ```
 */
export type SessionHandler<Data extends object = RegisteredSessionData> = (
  req: IncomingMessage,
  res: ServerResponse,
  session: Session<Data>,
) => unknown;

/**
 * Options of {@link withSession}.
 *
 * @example
 * ```ts
 * withSession(sessions, handler, { trustProxy: true, onStoreError: (err, req, res) => { res.statusCode = 503; res.end("later"); } });
 * ```
 */
export interface NodeSessionOptions extends NodeFailureOptions {
  /** Answers any other error of the handler or the commit. Default: log it and answer 500. */
  onError?: NodeErrorHandler;
}

const NODE_OPTIONS: OptionSpec = { ...FAILURE_OPTIONS, onError: "function" };

function defaultOnError(err: unknown, _req: IncomingMessage, res: ServerResponse): void {
  console.error("pgsession: request failed:", err);
  if (!sendAnswer(res, otherErrorAnswer(err, false))) res.destroy();
}

/**
 * Wraps a node:http handler: resolves the session from the Cookie header, passes it to the
 * handler, and commits it before the response's headers are sent.
 *
 * @example
 * ```ts
 * import { createServer } from "node:http";
 * import { withSession } from "pgsession/node";
 * createServer(withSession(sessions, async (req, res, session) => {
 *   session.set("visits", ((session.get("visits") as number) ?? 0) + 1);
 *   res.end(`visits: ${session.get("visits")}`);
 * })).listen(3000);
 * ```
 */
export function withSession<Data extends object = RegisteredSessionData>(
  sessions: Sessions<Data>,
  handler: SessionHandler<Data>,
  options: NodeSessionOptions = {},
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  checkSessions(sessions);
  checkValue("handler", "function", handler, false);
  checkOptions(options, NODE_OPTIONS, "withSession");
  const onError = options.onError ?? defaultOnError;
  return async function pgsessionHandler(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let run: NodeSessionRun<Data> | null;
    try {
      run = await startNodeSession(sessions, req, res, options, onError);
    } catch (err) {
      onError(err, req, res);
      return;
    }
    if (!run) return;
    const { session, gate, fail } = run;
    let brokenResponse = false;
    try {
      const result = handler(req, res, session);
      // A synchronous handler is not awaited: an await costs a turn of the microtask queue.
      if (isThenable(result)) await result;
    } catch (err) {
      // Output already started belongs to the handler; otherwise the error answers (after the commit).
      if (!gate.started) fail(err);
      else {
        console.error("pgsession: handler failed after starting its response:", err);
        brokenResponse = true;
      }
    }
    const committed = await gate.open();
    // A response cut short by an error is not ended as if complete: the client sees it fail.
    if (brokenResponse && !res.writableEnded) res.destroy();
    if (committed && session.isDirty) {
      // Changed after the response started: store the data; a new cookie can no longer be sent.
      await sessions.commit(session).catch((err: unknown) => console.error("pgsession: late session write failed:", err));
    }
  };
}

/**
 * The same as {@link withSession}, shaped as a middleware: `(req, res, next)`, with the
 * session at `req.session`. For connect-style stacks on node:http.
 *
 * @example
 * ```ts
 * const middleware = createSessionMiddleware(sessions);
 * createServer((req, res) => middleware(req, res, () => res.end(String(req.session.id))));
 * ```
 */
export function createSessionMiddleware<Data extends object = RegisteredSessionData>(
  sessions: Sessions<Data>,
  options: NodeSessionOptions = {},
) {
  checkSessions(sessions);
  checkOptions(options, NODE_OPTIONS, "createSessionMiddleware");
  const onError = options.onError ?? defaultOnError;
  // The rest of the stack runs after next() returns, so the commit waits for the first output.
  return async function pgsession(
    req: IncomingMessage & { session?: Session<Data> },
    res: ServerResponse,
    next: (err?: unknown) => unknown,
  ): Promise<void> {
    const run = await startNodeSession(sessions, req, res, options, onError).catch((err: unknown) => {
      next(err);
      return null;
    });
    if (!run) return;
    req.session = run.session;
    next();
  };
}

export type { NodeErrorHandler, NodeFailureOptions } from "./node/run.js";
