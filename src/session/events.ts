/**
 * Lifecycle events of sessions, for audit logs and metrics. Events carry the public id and
 * the user, never the token or its hash, and fire once per occurrence, after the database
 * change they report is stored.
 * @module
 */
import { isThenable } from "../lib/thenable.js";

/**
 * What an event says about one session.
 *
 * @example
 * ```ts
 * sessions.on("created", (event: SessionEvent) => console.log(event.id, event.userId, event.audience));
 * ```
 */
export interface SessionEvent {
  /** Public id of the session (safe to log). */
  id: string;
  /** Its user, or null for an anonymous session. */
  userId: string | null;
  /** Its audience, when known, else null. */
  audience: string | null;
}

/**
 * Why a session was revoked: `logout()`, an explicit revocation, or `maxSessionsPerUser`.
 *
 * @example
 * ```ts
 * sessions.on("revoked", ({ reason }) => { if (reason === "limit") metrics.count("sessions.evicted"); });
 * ```
 */
export type RevokeReason = "logout" | "revoked" | "limit";

/**
 * The events, each with what its listeners receive.
 *
 * @example
 * ```ts
 * sessions.on("revoked", (e) => audit.log("session revoked", e.id, e.userId, e.reason));
 * ```
 */
export interface SessionEventMap {
  /** A session was stored for the first time (first data, or a login). */
  created: SessionEvent;
  /** It got a new token (`rotate()`, or `login()` of a stored session). */
  rotated: SessionEvent;
  /** A request extended its idle expiry (at most once per `touchAfter`). */
  touched: SessionEvent;
  /** Changed data was written. */
  saved: SessionEvent & {
    /** The data's version after this write (`session.version`). */
    version: number;
  };
  /** It was deleted before its time: `logout()`, `revokeSession`, `revokeUserSessions`, or `maxSessionsPerUser`. */
  revoked: SessionEvent & {
    /** Which of those deleted it. */
    reason: RevokeReason;
  };
  /** Pruning deleted it because it had expired. */
  expired: SessionEvent;
  /** A prune run finished (not fired by a run that found another instance pruning). */
  pruned: {
    /** Rows deleted, in all batches. */
    deleted: number;
    /** Rows examined, in all batches. */
    scanned: number;
  };
  /**
   * A request carried the session cookie more than once (a cookie tossed in by a sibling
   * subdomain, or an old cookie with another Path or Domain). It is treated as having none,
   * so the visitor looks signed out until the stray cookie is gone; a `__Host-` cookie
   * name prevents it.
   */
  duplicateCookie: {
    /** How many times the cookie appeared. */
    count: number;
  };
}

/**
 * A lifecycle event name.
 *
 * @example
 * ```ts
 * const names: SessionEventName[] = ["created", "revoked"];
 * ```
 */
export type SessionEventName = keyof SessionEventMap;

/**
 * A listener of one event; its errors (and rejections) are logged, never thrown into the request.
 * It may return a Promise or any thenable (a query builder, another library's promise); the
 * event does not wait for it.
 *
 * @example
 * ```ts
 * const onSaved: SessionEventListener<"saved"> = ({ id, version }) => console.log(id, version);
 * sessions.on("saved", onSaved);
 * ```
 */
export type SessionEventListener<E extends SessionEventName> = (event: SessionEventMap[E]) => void | PromiseLike<void>;

const NAMES: ReadonlySet<string> = new Set<SessionEventName>([
  "created",
  "rotated",
  "touched",
  "saved",
  "revoked",
  "expired",
  "pruned",
  "duplicateCookie",
]);

/**
 * A small typed event emitter. Listeners run synchronously in registration order; a
 * throwing or rejecting listener is reported with `console.warn` and the others still run.
 *
 * @example
 * ```ts
 * const events = new SessionEvents();
 * const off = events.on("created", (e) => console.log(e.id));
 * events.emit("created", { id: "abc", userId: null, audience: null });
 * off();
 * ```
 */
export class SessionEvents {
  readonly #listeners = new Map<SessionEventName, Set<SessionEventListener<never>>>();

  /** Adds a listener; returns a function that removes it. */
  on<E extends SessionEventName>(name: E, listener: SessionEventListener<E>): () => void {
    if (!NAMES.has(name)) throw new TypeError(`pgsession: unknown session event ${JSON.stringify(name)}`);
    if (typeof listener !== "function") throw new TypeError("pgsession: an event listener must be a function");
    let set = this.#listeners.get(name);
    if (!set) this.#listeners.set(name, (set = new Set()));
    set.add(listener as SessionEventListener<never>);
    return () => this.off(name, listener);
  }

  /** Removes a listener. */
  off<E extends SessionEventName>(name: E, listener: SessionEventListener<E>): void {
    this.#listeners.get(name)?.delete(listener as SessionEventListener<never>);
  }

  /** Whether anything listens to `name` (so callers can skip building an event). */
  has(name: SessionEventName): boolean {
    return (this.#listeners.get(name)?.size ?? 0) > 0;
  }

  /** Calls the listeners of `name` with `event`. */
  emit<E extends SessionEventName>(name: E, event: SessionEventMap[E]): void {
    const set = this.#listeners.get(name);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        const result = (listener as SessionEventListener<E>)(event);
        // Through `then`, not `catch`: a thenable from another library may have no `catch`.
        if (isThenable(result)) result.then(undefined, (err: unknown) => report(name, err));
      } catch (err) {
        report(name, err);
      }
    }
  }
}

function report(name: string, err: unknown): void {
  console.warn(`pgsession: a "${name}" event listener failed: ${err instanceof Error ? err.message : String(err)}`);
}
