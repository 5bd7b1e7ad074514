/**
 * Internal carrier for node's IncomingMessage / ServerResponse, shared by `pgsession/node`
 * and `pgsession/express`: read the cookie and request context, append Set-Cookie without
 * replacing other cookies, and hold the response's first output until the session is
 * committed, so that nothing goes out before the write it depends on is stored.
 * @module
 */
import { OutgoingMessage, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import { contextOf } from "../session/request-context.js";
import type { RequestContext, Session, SessionData } from "../session/session.js";
import type { Sessions } from "../manager/manager.js";
import { conflictAnswer, goneAnswer, kindOf, storeErrorAnswer, type PlainAnswer } from "./answers.js";

/** The cookie header and context of a node request. */
export function readNodeRequest(req: IncomingMessage, trustProxy: boolean): { cookieHeader: string | undefined; context: RequestContext } {
  // Each read once: on Express's requests (a prototype of their own each) every property
  // lookup misses V8's caches.
  const headers = req.headers;
  const socket = req.socket as TLSSocket | undefined;
  const context = contextOf({
    tls: socket?.encrypted === true,
    remoteAddress: socket?.remoteAddress,
    forwardedProto: headers["x-forwarded-proto"],
    forwardedFor: headers["x-forwarded-for"],
    userAgent: headers["user-agent"],
  }, trustProxy);
  return { cookieHeader: headers.cookie, context };
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

type Held = "writeHead" | "write" | "end" | "flushHeaders";
type AnyFn = (...args: unknown[]) => unknown;

/** Moves headers passed to writeHead into the response, appending Set-Cookie instead of replacing it. */
function absorbHeaders(res: ServerResponse, headers: unknown): void {
  const pairs: Array<[string, unknown]> = Array.isArray(headers)
    ? (Array.isArray(headers[0]) ? (headers as Array<[string, unknown]>) : pairUp(headers as unknown[]))
    : Object.entries((headers ?? {}) as OutgoingHttpHeaders);
  for (const [name, value] of pairs) {
    if (value === undefined) continue;
    if (isSetCookie(name)) {
      for (const item of Array.isArray(value) ? value : [value]) appendSetCookie(res, String(item));
    } else {
      res.setHeader(name, value as string | number | readonly string[]);
    }
  }
}

/** Whether headers passed to writeHead (an object, pairs or a flat list) name Set-Cookie. */
function namesSetCookie(headers: unknown): boolean {
  if (headers === null || typeof headers !== "object") return false;
  if (Array.isArray(headers)) {
    const pairs = Array.isArray(headers[0]);
    for (let i = 0; i < headers.length; i += pairs ? 1 : 2) {
      if (isSetCookie(pairs ? (headers[i] as unknown[])[0] : headers[i])) return true;
    }
    return false;
  }
  for (const name in headers) if (isSetCookie(name)) return true;
  return false;
}

/** Whether a header name is Set-Cookie, in any case (the length check skips most names cheaply). */
function isSetCookie(name: unknown): boolean {
  return typeof name === "string" && name.length === 10 && name.toLowerCase() === "set-cookie";
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

const HELD_OUTPUT = Symbol("pgsession.heldOutput");
type HeldResponse = ServerResponse & { [HELD_OUTPUT]: HeldOutput };
const HELD_NAMES: readonly Held[] = ["writeHead", "write", "end", "flushHeaders"];

/**
 * The state of one held response. The wrappers are shared functions that find this state
 * through a symbol on the response (or, for a response held through its prototype, in
 * {@link heldOffResponse}), and they stay installed after the gate opens (passing calls
 * straight through): no closures per request and no `delete`, which would turn every
 * response into a slow dictionary-mode object.
 */
class HeldOutput implements OutputGate {
  started = false;
  /** Output flows straight to the original methods (after the gate opened or was abandoned). */
  passing = false;
  readonly queue: Array<() => void> = [];
  /** The arguments of a held writeHead that was the app's first output (read again when replayed). */
  firstWriteHead: unknown[] | null = null;
  #opening: Promise<boolean> | undefined;
  #released = false;

  constructor(
    readonly res: ServerResponse, readonly prepare: () => Promise<string | null>, readonly onFailure: (err: unknown) => void,
    readonly isClean: () => boolean,
    /** The methods the held calls go to. */
    readonly originals: Record<Held, AnyFn>,
    /** Held through a shared prototype: nothing may be added to the response itself. */
    readonly viaPrototype: boolean,
    /** Told once when nothing is held any more (see {@link SharedHeldOutput.onRelease}). */
    readonly onRelease: ((res: ServerResponse) => void) | undefined,
  ) {}

  open(): Promise<boolean> {
    return (this.#opening ??= this.#run());
  }

  async #run(): Promise<boolean> {
    try {
      const setCookie = await this.prepare();
      if (setCookie && !this.#intoHeldWriteHead(setCookie)) appendSetCookie(this.res, setCookie);
    } catch (err) {
      this.abandon();
      this.onFailure(err);
      return false;
    }
    this.passing = true;
    this.#release();
    const queue = this.queue;
    // Held calls made by the replayed ones pass straight through (passing is set).
    for (let i = 0; i < queue.length; i++) queue[i]!();
    queue.length = 0;
    return true;
  }

  /**
   * Adds the commit's Set-Cookie to the headers of the held writeHead(status, {...}) that
   * started the response, when nothing was set through setHeader: node:http then sends that
   * object as it is. One setHeader before it would make writeHead merge every header into
   * the response's own map, one by one (6 % of the adapter's instructions on a login).
   * The app's object is copied, not changed. False when this does not apply.
   */
  #intoHeldWriteHead(setCookie: string): boolean {
    const args = this.firstWriteHead;
    if (args === null) return false;
    const at = headersAt(args);
    const headers = args[at];
    if (headers === null || typeof headers !== "object" || Object.getPrototypeOf(headers) !== Object.prototype) return false;
    if (namesSetCookie(headers) || this.res.getHeaderNames().length > 0) return false;
    args[at] = { ...headers, "set-cookie": setCookie };
    return true;
  }

  abandon(): void {
    this.passing = true;
    this.#release();
    this.queue.length = 0;
    this.#opening ??= Promise.resolve(false);
  }

  /**
   * Drops the WeakMap entry of a response held through the prototype once nothing is held:
   * the shared methods then pass straight on, as they would for this state. Why: V8's
   * scavenger keeps a WeakMap's values alive as long as the entry exists, even once its key
   * is dead, so each finished response's state (and the response it points to) would be
   * copied, and soon promoted, by the next scavenge.
   */
  #release(): void {
    if (this.#released) return;
    this.#released = true;
    if (this.viaPrototype) heldOffResponse.delete(this.res);
    this.onRelease?.(this.res);
  }

  /**
   * Whether an output call goes straight through: after the gate opened (or was
   * abandoned), or when it is the app's first output and there is nothing to commit (the
   * request changed nothing), so that nothing waits for a commit that does nothing.
   */
  passesThrough(): boolean {
    if (this.passing) return true;
    if (this.started || !this.isClean()) return false;
    // The commit point has passed with nothing to commit: what changes later is a late write.
    this.started = true;
    this.passing = true;
    this.#release();
    this.#opening ??= Promise.resolve(true);
    return true;
  }

  /** Queues one call of the app's output and starts the commit. */
  hold(call: () => void): void {
    if (!this.started) {
      this.started = true;
      // Only from the first held output on can the app's view of headersSent differ from
      // the truth; a response that is never held keeps Node's own getter (no runtime call).
      // Held through the prototype, the prototype's getter answers (see installHeldOutput).
      if (!this.viaPrototype) Object.defineProperty(this.res, "headersSent", HELD_HEADERS_SENT);
    }
    this.queue.push(call);
    void this.open();
  }
}

/** Where the headers are among writeHead's arguments after the status: after a status message, if any. */
function headersAt(rest: unknown[]): number {
  return typeof rest[0] === "string" ? 1 : 0;
}

function writeHeadOf(held: HeldOutput, res: ServerResponse, status: unknown, rest: unknown[]): unknown {
  if (held.passesThrough()) return held.originals.writeHead.call(res, status, ...rest);
  if (!held.started) held.firstWriteHead = rest;
  held.hold(() => {
    const headers = rest[headersAt(rest)];
    // Node's writeHead lets its own Set-Cookie replace one set before (the commit's, or the
    // app's): only then are the headers moved in one by one, so that both go out. Any other
    // call goes through as the app made it, on node's fast path.
    if (!namesSetCookie(headers) || res.getHeader("set-cookie") === undefined) {
      held.originals.writeHead.call(res, status, ...rest);
      return;
    }
    absorbHeaders(res, headers);
    if (typeof rest[0] === "string") held.originals.writeHead.call(res, status, rest[0]);
    else held.originals.writeHead.call(res, status);
  });
  return res;
}

function writeOf(held: HeldOutput, res: ServerResponse, args: unknown[]): unknown {
  if (held.passesThrough()) return held.originals.write.apply(res, args);
  held.hold(() => held.originals.write.apply(res, args));
  return true;
}

function endOf(held: HeldOutput, res: ServerResponse, args: unknown[]): unknown {
  if (held.passesThrough()) return held.originals.end.apply(res, args);
  held.hold(() => held.originals.end.apply(res, args));
  return res;
}

function flushHeadersOf(held: HeldOutput, res: ServerResponse): unknown {
  if (held.passesThrough()) return held.originals.flushHeaders.call(res);
  held.hold(() => held.originals.flushHeaders.call(res));
  return undefined;
}

// To the app, held output counts as sent: it must not start a second response.
function headersSentOf(held: HeldOutput, res: ServerResponse): boolean {
  return (held.started && !held.passing) || headersReallySent(res);
}

// The wrappers installed on one response (own properties), finding its state through the symbol.
function heldWriteHead(this: HeldResponse, status: unknown, ...rest: unknown[]): unknown {
  return writeHeadOf(this[HELD_OUTPUT], this, status, rest);
}
function heldWrite(this: HeldResponse, ...args: unknown[]): unknown {
  return writeOf(this[HELD_OUTPUT], this, args);
}
function heldEnd(this: HeldResponse, ...args: unknown[]): unknown {
  return endOf(this[HELD_OUTPUT], this, args);
}
function heldFlushHeaders(this: HeldResponse): unknown {
  return flushHeadersOf(this[HELD_OUTPUT], this);
}
function heldHeadersSent(this: HeldResponse): boolean {
  return headersSentOf(this[HELD_OUTPUT], this);
}

/** The accessor a response held on its own answers `headersSent` with (one descriptor for all). */
const HELD_HEADERS_SENT: PropertyDescriptor = Object.freeze({ configurable: true, get: heldHeadersSent });

/** The state of the responses held through a shared prototype, kept off the responses themselves. */
const heldOffResponse = new WeakMap<ServerResponse, HeldOutput>();
const INSTALLED = Symbol("pgsession.heldOutputInstalled");

/** @internal Whether `res` is held through a shared prototype right now (for tests: the entry must not outlive the hold). */
export function isHeldThroughPrototype(res: ServerResponse): boolean {
  return heldOffResponse.has(res);
}

/**
 * A prototype shared by a framework's responses, with the held-output methods installed
 * (by {@link installHeldOutput}): holding a response that inherits them adds nothing to it.
 */
export interface SharedHeldOutput {
  readonly prototype: object;
  /** The methods the prototype inherits, looked up at each call (an APM agent may patch them later). */
  readonly parent: Record<Held, AnyFn>;
  /** The methods installed (the app may replace them later; a response that resolves another is held on its own). */
  readonly methods: Record<Held, AnyFn>;
  /**
   * Called once per held response of this framework when nothing is held any more (the
   * commit is stored, or there was nothing to commit, or the hold was abandoned): the
   * moment to drop per-request state kept off the response. Set by the adapter.
   */
  onRelease: ((res: ServerResponse) => void) | undefined;
}

/**
 * Installs the held-output methods, once, on a prototype every response of a framework
 * inherits (Express's `express.response`). They pass every call straight to the inherited
 * method unless the response is one pgsession holds.
 *
 * Why: Express gives each response a new prototype (`Object.setPrototypeOf`), and V8 then
 * builds a new hidden class for every property later added to that response, measured at
 * about 4.5 µs each: the five properties `holdOutput` adds (four methods and its state)
 * cost more than the rest of the adapter. Null when the prototype already defines one of
 * these names itself (the app's own override wins; responses are then held one by one).
 */
export function installHeldOutput(prototype: object): SharedHeldOutput | null {
  const target = prototype as Record<string | symbol, unknown>;
  if (Object.hasOwn(target, INSTALLED)) return target[INSTALLED] as SharedHeldOutput | null;
  if (!Object.isExtensible(prototype)) return null;
  if ([...HELD_NAMES, "headersSent"].some((name) => Object.hasOwn(target, name))) {
    Object.defineProperty(target, INSTALLED, { value: null });
    return null;
  }
  const parent = Object.getPrototypeOf(prototype) as Record<Held, AnyFn>;
  const methods: Record<Held, AnyFn> = {
    writeHead: function writeHead(this: ServerResponse, status: unknown, ...rest: unknown[]) {
      const held = heldOffResponse.get(this);
      return held ? writeHeadOf(held, this, status, rest) : parent.writeHead.call(this, status, ...rest);
    },
    write: function write(this: ServerResponse, ...args: unknown[]) {
      const held = heldOffResponse.get(this);
      return held ? writeOf(held, this, args) : parent.write.apply(this, args);
    },
    end: function end(this: ServerResponse, ...args: unknown[]) {
      const held = heldOffResponse.get(this);
      return held ? endOf(held, this, args) : parent.end.apply(this, args);
    },
    flushHeaders: function flushHeaders(this: ServerResponse) {
      const held = heldOffResponse.get(this);
      return held ? flushHeadersOf(held, this) : parent.flushHeaders.call(this);
    },
  } as Record<Held, AnyFn>;
  const shared: SharedHeldOutput = { prototype, parent, methods, onRelease: undefined };
  const value = (fn: AnyFn): PropertyDescriptor => ({ configurable: true, writable: true, value: fn });
  Object.defineProperties(prototype, {
    writeHead: value(methods.writeHead), write: value(methods.write), end: value(methods.end), flushHeaders: value(methods.flushHeaders),
    headersSent: { configurable: true, get(this: ServerResponse) {
      const held = heldOffResponse.get(this);
      return held ? headersSentOf(held, this) : headersReallySent(this);
    } },
    [INSTALLED]: { value: shared },
  });
  return shared;
}

/** Whether every output method `res` resolves is the shared prototype's: nothing in between wraps or overrides one. */
function resolvesToShared(res: ServerResponse, shared: SharedHeldOutput): boolean {
  const target = res as unknown as Record<Held, AnyFn>;
  const installed = shared.methods;
  return shared.prototype.isPrototypeOf(res) && target.writeHead === installed.writeHead && target.write === installed.write &&
    target.end === installed.end && target.flushHeaders === installed.flushHeaders;
}

/**
 * Intercepts `writeHead`, `write`, `end` and `flushHeaders`: the first call runs `prepare`
 * (the commit) and appends the Set-Cookie value it resolves to, if any; the held calls are replayed in order once it
 * succeeds. When it fails, the held output is dropped and `onFailure` answers instead.
 * Meanwhile `res.headersSent` tells the app the truth it acts on: its response has started.
 * When `isClean` says there is nothing to commit at the first output, nothing is held.
 * With `shared` (see {@link installHeldOutput}), a response whose methods all come from
 * that prototype is held without adding anything to it; any other is wrapped one by one,
 * around whatever methods it has now (another middleware, compression or on-headers, may
 * have wrapped them).
 */
export function holdOutput(
  res: ServerResponse, prepare: () => Promise<string | null>, onFailure: (err: unknown) => void, isClean: () => boolean = () => false,
  shared: SharedHeldOutput | null = null,
): OutputGate {
  const target = res as unknown as Record<Held, AnyFn>;
  // A response another pgsession middleware holds already is wrapped around that hold.
  if (shared && !heldOffResponse.has(res) && resolvesToShared(res, shared)) {
    // The held calls go to the inherited methods, looked up when they run.
    const held = new HeldOutput(res, prepare, onFailure, isClean, shared.parent, true, shared.onRelease);
    heldOffResponse.set(res, held);
    return held;
  }
  const held = new HeldOutput(res, prepare, onFailure, isClean,
    { writeHead: target.writeHead, write: target.write, end: target.end, flushHeaders: target.flushHeaders }, false, shared?.onRelease);
  (res as HeldResponse)[HELD_OUTPUT] = held;
  target.writeHead = heldWriteHead as AnyFn;
  target.write = heldWrite as AnyFn;
  target.end = heldEnd as AnyFn;
  target.flushHeaders = heldFlushHeaders as AnyFn;
  return held;
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
  /** Answers an error: store errors 503, gone sessions and conflicts 409, others through `onOther`. */
  fail(err: unknown): void;
}

/**
 * Resolves the session of `req` and holds `res` until it is committed. Resolves to null
 * when the store failed (the failure is answered), rethrows anything else. `onOther`
 * answers a commit failure that is neither a store error nor a gone session.
 */
export async function startNodeSession<Data extends SessionData>(
  sessions: Sessions<Data>, req: IncomingMessage, res: ServerResponse, options: NodeFailureOptions, onOther: NodeErrorHandler,
  shared: SharedHeldOutput | null = null,
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
    else if (kind === "conflict") sendAnswer(res, conflictAnswer(session ? sessions.unsentCookie(session) : null));
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
  // The commit's promise itself, not an async wrapper around it: one await fewer per request.
  gate = holdOutput(res, () => sessions.commit(resolved), fail, () => !sessions.needsCommit(resolved), shared);
  return { session: resolved, gate, fail };
}
