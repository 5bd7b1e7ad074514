/**
 * Internal carrier for node's IncomingMessage / ServerResponse, shared by `pgsession/node`
 * and `pgsession/express`: read the cookie and request context, append Set-Cookie without
 * replacing other cookies, and hold the response's first output until the session is
 * committed, so that nothing goes out before the write it depends on is stored.
 * @module
 */
import { OutgoingMessage, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import { contextOf } from "../core/request.js";
import type { RequestContext, Session, SessionData } from "../core/session.js";
import type { Sessions } from "../core/sessions.js";
import { goneAnswer, kindOf, storeErrorAnswer, type PlainAnswer } from "./answers.js";

/** The cookie header and context of a node request. */
export function readNodeRequest(req: IncomingMessage, trustProxy: boolean): { cookieHeader: string | undefined; context: RequestContext } {
  const context = contextOf({
    tls: (req.socket as TLSSocket | undefined)?.encrypted === true,
    remoteAddress: req.socket?.remoteAddress,
    forwardedProto: req.headers["x-forwarded-proto"],
    forwardedFor: req.headers["x-forwarded-for"],
    userAgent: req.headers["user-agent"],
  }, trustProxy);
  return { cookieHeader: req.headers.cookie, context };
}

const HEADERS_SENT = Object.getOwnPropertyDescriptor(OutgoingMessage.prototype, "headersSent")?.get;

/** Whether the headers really went out (while output is held, `res.headersSent` already says true to the app). */
function headersReallySent(res: ServerResponse): boolean {
  return HEADERS_SENT ? HEADERS_SENT.call(res) === true : res.headersSent;
}

/** Adds one Set-Cookie value, keeping those already set. False (and no write) once headers are sent. */
export function appendSetCookie(res: ServerResponse, value: string): boolean {
  if (headersReallySent(res)) return false;
  const existing = res.getHeader("set-cookie");
  const list = existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
  res.setHeader("Set-Cookie", [...list, value]);
  return true;
}

/** Replaces whatever the response holds with `answer`; false if headers already went out. */
export function sendAnswer(res: ServerResponse, answer: PlainAnswer): boolean {
  if (headersReallySent(res)) return false;
  for (const name of res.getHeaderNames()) res.removeHeader(name);
  res.statusCode = answer.status;
  for (const [name, value] of answer.headers) {
    if (name.toLowerCase() === "set-cookie") appendSetCookie(res, value);
    else res.setHeader(name, value);
  }
  res.end(answer.body);
  return true;
}

const HELD = ["writeHead", "write", "end", "flushHeaders"] as const;
type Held = (typeof HELD)[number];
type AnyFn = (...args: unknown[]) => unknown;

/** Moves headers passed to writeHead into the response, appending Set-Cookie instead of replacing it. */
function absorbHeaders(res: ServerResponse, headers: unknown): void {
  const pairs: Array<[string, unknown]> = Array.isArray(headers)
    ? (Array.isArray(headers[0]) ? (headers as Array<[string, unknown]>) : pairUp(headers as unknown[]))
    : Object.entries((headers ?? {}) as OutgoingHttpHeaders);
  for (const [name, value] of pairs) {
    if (value === undefined) continue;
    if (name.toLowerCase() === "set-cookie") {
      for (const item of Array.isArray(value) ? value : [value]) appendSetCookie(res, String(item));
    } else {
      res.setHeader(name, value as string | number | readonly string[]);
    }
  }
}

function pairUp(flat: unknown[]): Array<[string, unknown]> {
  const pairs: Array<[string, unknown]> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) pairs.push([String(flat[i]), flat[i + 1]]);
  return pairs;
}

/** Holds a response's output until {@link OutputGate.open} has run its preparation. */
export interface OutputGate {
  /** Whether the app has started its response (its output may still be held). */
  readonly started: boolean;
  /** Runs the preparation once (if not yet run) and lets held output through. Never rejects: false when it failed. */
  open(): Promise<boolean>;
  /** Gives the response back untouched, without committing: the request failed. Drops held output. */
  abandon(): void;
}

/**
 * Intercepts `writeHead`, `write`, `end` and `flushHeaders`: the first call runs `prepare`
 * (commit and append Set-Cookie), and the held calls are replayed in order once it
 * succeeds. When it fails, the held output is dropped and `onFailure` answers instead.
 * Meanwhile `res.headersSent` tells the app the truth it acts on: its response has started.
 */
export function holdOutput(res: ServerResponse, prepare: () => Promise<void>, onFailure: (err: unknown) => void): OutputGate {
  const target = res as unknown as Record<Held, AnyFn>;
  const originals = Object.fromEntries(HELD.map((name) => [name, target[name]])) as Record<Held, AnyFn>;
  const queue: Array<() => void> = [];
  let started = false;
  let opening: Promise<boolean> | undefined;

  const restore = () => {
    for (const name of HELD) target[name] = originals[name];
    delete (res as { headersSent?: boolean }).headersSent;
  };
  // To the app, held output counts as sent: it must not start a second response.
  Object.defineProperty(res, "headersSent", { configurable: true, get: () => started || headersReallySent(res) });
  const open = (): Promise<boolean> => (opening ??= (async () => {
    try {
      await prepare();
    } catch (err) {
      restore();
      queue.length = 0;
      onFailure(err);
      return false;
    }
    restore();
    for (const call of queue.splice(0)) call();
    return true;
  })());

  target.writeHead = (status: unknown, ...rest: unknown[]) => {
    started = true;
    queue.push(() => {
      const headers = typeof rest[0] === "string" ? rest[1] : rest[0];
      if (headers !== undefined) absorbHeaders(res, headers);
      if (typeof rest[0] === "string") originals.writeHead.call(res, status, rest[0]);
      else originals.writeHead.call(res, status);
    });
    void open();
    return res;
  };
  for (const name of ["write", "end", "flushHeaders"] as const) {
    target[name] = (...args: unknown[]) => {
      started = true;
      queue.push(() => originals[name].apply(res, args));
      void open();
      return name === "write" ? true : name === "end" ? res : undefined;
    };
  }
  return {
    get started() {
      return started;
    },
    open,
    abandon() {
      restore();
      queue.length = 0;
      opening ??= Promise.resolve(false);
    },
  };
}

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
  /** Believe `X-Forwarded-Proto`/`X-Forwarded-For`. Default: the `trustProxy` of `createSessions`. */
  trustProxy?: boolean;
  /** Answers a `SessionStoreError`. Default: 503 with no Set-Cookie (but the new token of a login or rotation already stored). */
  onStoreError?: NodeErrorHandler;
  /** Answers a `SessionGoneError` at commit. Default: 409 and a clearing cookie. */
  onSessionGone?: NodeErrorHandler;
}

/** A resolved session and the gate holding its response. */
export interface NodeSessionRun<Data extends SessionData> {
  session: Session<Data>;
  gate: OutputGate;
  /** Answers an error: store errors 503, gone sessions 409, others through `onOther`. */
  fail(err: unknown): void;
}

/**
 * Resolves the session of `req` and holds `res` until it is committed. Resolves to null
 * when the store failed (the failure is answered), rethrows anything else. `onOther`
 * answers a commit failure that is neither a store error nor a gone session.
 */
export async function startNodeSession<Data extends SessionData>(
  sessions: Sessions<Data>, req: IncomingMessage, res: ServerResponse, options: NodeFailureOptions, onOther: NodeErrorHandler,
): Promise<NodeSessionRun<Data> | null> {
  const { cookieHeader, context } = readNodeRequest(req, options.trustProxy ?? sessions.options.trustProxy);
  let gate: OutputGate | undefined;
  let session: Session<Data> | undefined;
  const fail = (err: unknown) => {
    const kind = kindOf(err);
    // A store failure or a gone session is answered as it is: nothing more is committed.
    if (kind !== null) gate?.abandon();
    if (kind === "store") {
      // Only a login, rotation or logout already stored changes the cookie of a 503.
      const stored = session ? sessions.unsentCookie(session) : null;
      if (options.onStoreError) {
        if (stored !== null) appendSetCookie(res, stored);
        options.onStoreError(err, req, res);
      } else {
        sendAnswer(res, storeErrorAnswer(stored));
      }
    }
    else if (kind === "gone") (options.onSessionGone ?? ((_e, _q, r) => sendAnswer(r, goneAnswer(sessions, context.secure === true))))(err, req, res);
    else onOther(err, req, res);
  };
  try {
    session = await sessions.resolve(cookieHeader, context);
  } catch (err) {
    if (kindOf(err) !== "store") throw err;
    fail(err);
    return null;
  }
  const resolved = session;
  gate = holdOutput(res, async () => {
    const setCookie = await sessions.commit(resolved);
    if (setCookie) appendSetCookie(res, setCookie);
  }, fail);
  return { session: resolved, gate, fail };
}
