/**
 * Internal: holds a node:http response's first output until the session is committed, so
 * that nothing goes out before the write it depends on is stored.
 *
 * Each response is held on its own instance: its `writeHead`, `write`, `end` and
 * `flushHeaders` are wrapped there, around whatever methods it has at that moment (another
 * middleware, compression or on-headers, may have wrapped them already). Nothing shared, a
 * framework's prototype or a global, is touched.
 * @module
 */
import { ServerResponse } from "node:http";
import { appendSetCookie, headersReallySent, keepOutOfSharedCaches } from "./write-response.js";
import { putIntoWriteHeadHeaders } from "./writehead-fast-path.js";
import { noStoreInWriteHead, replayWriteHead, type AnyFn } from "./writehead.js";

/** Holds a response's output until {@link OutputGate.open} has run its preparation. */
export interface OutputGate {
  /** Whether the app has started its response (its output may still be held). */
  readonly started: boolean;
  /** Runs the preparation once (if not yet run) and lets held output through. Never rejects: false when it failed. */
  open(): Promise<boolean>;
  /** Gives the response back untouched, without committing: the request failed. Drops held output. */
  abandon(): void;
}

type Held = "writeHead" | "write" | "end" | "flushHeaders";

const HELD_OUTPUT = Symbol("pgsession.heldOutput");
type HeldResponse = ServerResponse & { [HELD_OUTPUT]: HeldOutput };

/**
 * The state of one held response. Its wrappers stay installed after the gate opens, and
 * pass calls straight through: a `delete` would turn the response into a slow
 * dictionary-mode object.
 */
class HeldOutput implements OutputGate {
  started = false;
  /** Output flows straight to the original methods (after the gate opened or was abandoned). */
  passing = false;
  readonly queue: Array<() => void> = [];
  /** The arguments of a held writeHead that was the app's first output (read again when replayed). */
  firstWriteHead: unknown[] | null = null;
  /** How the response answers `headersSent` once held (see {@link headersSentOf}). */
  headersSent: PropertyDescriptor = HELD_HEADERS_SENT;
  #opening: Promise<boolean> | undefined;

  constructor(
    readonly res: ServerResponse,
    readonly prepare: () => Promise<string | null>,
    readonly onFailure: (err: unknown) => void,
    readonly isClean: () => boolean,
    /** The methods the held calls go to. */
    readonly originals: Readonly<Record<Held, AnyFn>>,
    /** Whether a response that gets the Set-Cookie also gets `Cache-Control: no-store` (see `shared/cache-control.ts`). */
    readonly noStore: boolean,
  ) {}

  open(): Promise<boolean> {
    return (this.#opening ??= this.#run());
  }

  async #run(): Promise<boolean> {
    try {
      const setCookie = await this.prepare();
      const first = this.firstWriteHead;
      if (setCookie && !(first !== null && putIntoWriteHeadHeaders(this.res, first, setCookie, this.noStore))) {
        appendSetCookie(this.res, setCookie);
        if (this.noStore && !(first !== null && noStoreInWriteHead(first))) keepOutOfSharedCaches(this.res);
      }
    } catch (err) {
      this.abandon();
      this.onFailure(err);
      return false;
    }
    this.passing = true;
    const queue = this.queue;
    // Held calls made by the replayed ones pass straight through (passing is set).
    for (let i = 0; i < queue.length; i++) queue[i]!();
    queue.length = 0;
    return true;
  }

  abandon(): void {
    this.passing = true;
    this.queue.length = 0;
    this.#opening ??= Promise.resolve(false);
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
    this.#opening ??= Promise.resolve(true);
    return true;
  }

  /** Queues one call of the app's output and starts the commit. */
  hold(call: () => void): void {
    if (!this.started) {
      this.started = true;
      // Only from the first held output on can the app's view of headersSent differ from
      // the truth: a response that is never held keeps node's own getter.
      Object.defineProperty(this.res, "headersSent", this.headersSent);
    }
    this.queue.push(call);
    void this.open();
  }
}

/** `writeHead`, passed through or held (the first output's arguments are kept for the fast path). */
function writeHeadOf(held: HeldOutput, res: ServerResponse, status: unknown, rest: unknown[]): unknown {
  const writeHead = held.originals.writeHead;
  if (held.passesThrough()) return writeHead.call(res, status, ...rest);
  if (!held.started) held.firstWriteHead = rest;
  held.hold(() => replayWriteHead(writeHead, res, status, rest));
  return res;
}

/** `write`, `end` or `flushHeaders`, passed through or held; `whileHeld` is what the call returns meanwhile. */
function outputOf(held: HeldOutput, res: ServerResponse, name: Exclude<Held, "writeHead">, args: unknown[], whileHeld: unknown): unknown {
  const original = held.originals[name];
  if (held.passesThrough()) return original.apply(res, args);
  held.hold(() => original.apply(res, args));
  return whileHeld;
}

// To the app, held output counts as sent: it must not start a second response.
function headersSentOf(held: HeldOutput, res: ServerResponse): boolean {
  return (held.started && !held.passing) || headersReallySent(res);
}

// The wrappers of a response held once, shared by all responses: they find its state
// through a symbol on the response, so that holding one creates no closures.
function heldWriteHead(this: HeldResponse, status: unknown, ...rest: unknown[]): unknown {
  return writeHeadOf(this[HELD_OUTPUT], this, status, rest);
}
function heldWrite(this: HeldResponse, ...args: unknown[]): unknown {
  return outputOf(this[HELD_OUTPUT], this, "write", args, true);
}
function heldEnd(this: HeldResponse, ...args: unknown[]): unknown {
  return outputOf(this[HELD_OUTPUT], this, "end", args, this);
}
function heldFlushHeaders(this: HeldResponse): unknown {
  return outputOf(this[HELD_OUTPUT], this, "flushHeaders", [], undefined);
}
function heldHeadersSent(this: HeldResponse): boolean {
  return headersSentOf(this[HELD_OUTPUT], this);
}

/** The accessor a held response answers `headersSent` with (one descriptor for all). */
const HELD_HEADERS_SENT: PropertyDescriptor = Object.freeze({ configurable: true, get: heldHeadersSent });

/**
 * The wrappers of a response another pgsession middleware holds already: closures over
 * their own state, since the symbol names the first hold's.
 */
function wrappersAround(held: HeldOutput): Record<Held, AnyFn> {
  held.headersSent = {
    configurable: true,
    get(this: ServerResponse) {
      return headersSentOf(held, this);
    },
  };
  return {
    writeHead(this: ServerResponse, status: unknown, ...rest: unknown[]) {
      return writeHeadOf(held, this, status, rest);
    },
    write(this: ServerResponse, ...args: unknown[]) {
      return outputOf(held, this, "write", args, true);
    },
    end(this: ServerResponse, ...args: unknown[]) {
      return outputOf(held, this, "end", args, this);
    },
    flushHeaders(this: ServerResponse) {
      return outputOf(held, this, "flushHeaders", [], undefined);
    },
  } as Record<Held, AnyFn>;
}

const NODE_RESPONSE = ServerResponse.prototype;
const SCRATCH = Symbol("pgsession.scratch");

/**
 * Puts a framework's response (Express gives each one its app's prototype) in dictionary
 * mode before the hold adds its properties: on such objects every property added in fast
 * mode builds a hidden class of its own, garbage the collector then pays for on every
 * request. A deleted property is the one documented way V8 switches an object over.
 */
function toDictionaryMode(res: ServerResponse): void {
  (res as unknown as Record<symbol, unknown>)[SCRATCH] = true;
  delete (res as unknown as Record<symbol, unknown>)[SCRATCH];
}

const SHARED_WRAPPERS = { writeHead: heldWriteHead, write: heldWrite, end: heldEnd, flushHeaders: heldFlushHeaders } as Record<Held, AnyFn>;

/**
 * Holds `res`: its first `writeHead`, `write`, `end` or `flushHeaders` runs `prepare` (the
 * commit) and appends the Set-Cookie value it resolves to, if any; the held calls are
 * replayed in order once it succeeds. When it fails, the held output is dropped and
 * `onFailure` answers instead. Meanwhile `res.headersSent` tells the app the truth it acts
 * on: its response has started. When `isClean` says there is nothing to commit at the
 * first output, nothing is held. With `noStore`, a response that gets a Set-Cookie also
 * gets `Cache-Control: no-store` unless the app's keeps it out of shared caches.
 */
export function holdOutput(
  res: ServerResponse,
  prepare: () => Promise<string | null>,
  onFailure: (err: unknown) => void,
  isClean: () => boolean = () => false,
  noStore = false,
): OutputGate {
  const target = res as unknown as Record<Held, AnyFn>;
  const held = new HeldOutput(
    res,
    prepare,
    onFailure,
    isClean,
    {
      writeHead: target.writeHead,
      write: target.write,
      end: target.end,
      flushHeaders: target.flushHeaders,
    },
    noStore,
  );
  let wrappers = SHARED_WRAPPERS;
  if (Object.hasOwn(res, HELD_OUTPUT)) wrappers = wrappersAround(held);
  else {
    (res as HeldResponse)[HELD_OUTPUT] = held;
    if (Object.getPrototypeOf(res) !== NODE_RESPONSE) toDictionaryMode(res);
  }
  target.writeHead = wrappers.writeHead;
  target.write = wrappers.write;
  target.end = wrappers.end;
  target.flushHeaders = wrappers.flushHeaders;
  return held;
}
