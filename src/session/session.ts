/**
 * The session object handed to request handlers: its data with dirty tracking, its
 * metadata, and login / rotate / logout. The token lives in a private class field, so
 * it never shows up in `console.log(session)`, `JSON.stringify(session)` or an error.
 * @module
 */
import type { Duration } from "../lib/duration.js";
import { SessionReadOnlyError } from "../errors.js";
import { checkKey, emptyData, serializeValue, toData, type SessionData } from "./data.js";
import type { SessionRecord } from "./table.js";

export { emptyData, toData, type SessionData };

/** Options of {@link Session.login}. */
export interface LoginOptions {
  /** A "remember me" session: longer timeouts and a persistent cookie. Default `false`. */
  remember?: boolean;
  /** Idle timeout of this session, overriding the configured one. */
  idleTimeout?: Duration;
  /** Absolute lifetime of this session, overriding the configured one. */
  absoluteTimeout?: Duration;
}

/** Options of {@link Session.logout}. */
export interface LogoutOptions {
  /**
   * Sign the user out but keep the session and its data (a cart, preferences), under a new
   * token; the old token stops working at once, as after a login. Default `false`: the
   * session is deleted.
   */
  keepData?: boolean;
}

/** Where a request came from; recorded at creation and login. */
export interface RequestContext {
  /** Client address. */
  ip?: string | null | undefined;
  /** User-Agent header. */
  userAgent?: string | null | undefined;
  /** Whether the request came over HTTPS (for `cookie.secure: "auto"`). */
  secure?: boolean | undefined;
  /**
   * Read the session from the database even when the read cache (`cache` option) holds it:
   * for sensitive routes, which must see a revocation made elsewhere the moment it commits.
   * No effect without the cache.
   */
  fresh?: boolean | undefined;
  /**
   * Resolve for reading only, where the response cannot carry a Set-Cookie (a React Server
   * Component): the session is read from the database without its due touch (the next
   * request that can write makes it), and every change (`set`, `delete`, `clear`, `login`,
   * `rotate`, `logout`) and `commit` throw {@link SessionReadOnlyError}.
   */
  readOnly?: boolean | undefined;
}

/** What the session manager does for a session; implemented by `createSessions`. */
export interface SessionController {
  /** A new public id for a session created at `createdAt`. */
  newPublicId(createdAt: Date): string;
  /** The absolute lifetime a new session gets, in ms. */
  readonly absoluteTimeoutMs: number;
  login(session: Session<object>, userId: string, options: LoginOptions): Promise<void>;
  rotate(session: Session<object>): Promise<void>;
  logout(session: Session<object>, options: LogoutOptions): Promise<void>;
}

/**
 * Where a session stands:
 * - `new`: not stored; stored at commit once it has data or a user (or `saveUninitialized`).
 * - `superseded`: read through a token that a login replaced while this request was in
 *   flight; new and empty, and its changes are refused (stored, they would start a session
 *   whose cookie replaces the login's in the browser). A login may still follow.
 * - `loggedOut`: not stored; the cookie is cleared unless a new session is stored instead.
 * - `stored`: the row exists; `record` holds it.
 */
export type SessionPhase = "new" | "superseded" | "loggedOut" | "stored";

/** Internal state of one session, shared with the session manager only. */
export interface SessionState {
  phase: SessionPhase;
  /** The token, once the session is stored (a new session gets one only when it is written). */
  token: string | null;
  /** SHA-256 of the token ({@link tokenHashBytes}), with the token. */
  tokenHash: Uint8Array | null;
  /** The public id, made on first use. */
  publicId: string | null;
  /** The stored row: non-null exactly when `phase` is `stored`. */
  record: SessionRecord | null;
  data: SessionData;
  /** Keys changed since the last write: serialized JSON, or undefined for a deletion. */
  changes: Map<string, string | undefined>;
  cleared: boolean;
  /** Stored: the cookie must be (re)sent (a new token or a new lifetime). */
  cookieDue: boolean;
  /** Stored: the token is older than `rotateAfter`, so the commit replaces it (rolling renewal). */
  rotateDue: boolean;
  /** The data key of a sealed session (see the data codec), or null. */
  dataKey: Buffer | null;
  context: RequestContext;
  /** An upper bound of the length of the data's text as PostgreSQL writes its jsonb, in characters or bytes (see `maxDataSize`). */
  dataLength: number;
  createdAt: Date;
  expiresAt: Date;
  controller: SessionController;
  /**
   * The error the last failed `login`/`rotate`/`logout` of this request threw, for the
   * adapters of frameworks that catch an app's errors and answer them on their own
   * (SvelteKit): they must still answer a session failure as pgsession does.
   */
  failure?: unknown;
}

/** `change`, its failure kept in `state.failure`. */
async function noted(state: SessionState, change: Promise<void>): Promise<void> {
  try {
    await change;
  } catch (err) {
    state.failure = err;
    throw err;
  }
}

// Set by the Session class below: it alone can read its private field.
let readState: (session: object) => SessionState | undefined;

/** The internal state of a session (for the session manager, not for applications). */
export function stateOf(session: Session<object>): SessionState {
  const state = readState(session);
  if (!state) throw new TypeError("pgsession: not a session created by this library");
  return state;
}

/** Throws {@link SessionReadOnlyError} when the session was resolved read-only: `operation` is what it refuses. */
export function refuseReadOnly(state: SessionState, operation: string): void {
  if (state.context.readOnly === true) throw new SessionReadOnlyError(operation);
}

/**
 * One HTTP session. Read and change its data with `get`/`set`/`delete`/`clear`; the
 * changes are written by `sessions.commit(session)` (adapters do it for you), and only
 * the keys that changed are sent.
 *
 * @example
 * ```ts
 * const session = await sessions.resolve(req.headers.cookie);
 * session.set("visits", (session.get("visits") ?? 0) + 1);
 * if (!session.isAuthenticated) await session.login("user-42", { remember: true });
 * ```
 */
export class Session<Data extends object = SessionData> {
  // A private field, not a WeakMap: as hidden from console.log and JSON.stringify, and read
  // many times per request at no cost.
  readonly #state: SessionState;

  static {
    readState = (session) => (#state in session ? (session as Session<object>).#state : undefined);
  }

  /** @internal Use `sessions.resolve()`; sessions are never built by hand. */
  constructor(state: SessionState) {
    this.#state = state;
  }

  /** Public id: safe to show, log and use in URLs; not the token. */
  get id(): string {
    const state = this.#state;
    return (state.publicId ??= state.controller.newPublicId(state.createdAt));
  }
  /** The logged-in user, or null. */
  get userId(): string | null {
    return this.#state.record?.userId ?? null;
  }
  /** Whether a user is logged in. */
  get isAuthenticated(): boolean {
    return this.userId !== null;
  }
  /** Audience (application or tenant) of the session, or null. */
  get audience(): string | null {
    const state = this.#state;
    return state.record ? state.record.audience : null;
  }
  /** True until the session is stored. */
  get isNew(): boolean {
    return this.#state.phase !== "stored";
  }
  /** A "remember me" session. */
  get remember(): boolean {
    return this.#state.record?.remember ?? false;
  }
  /** When the session was created. */
  get createdAt(): Date {
    return this.#state.record?.createdAt ?? this.#state.createdAt;
  }
  /** Last request that extended the idle expiry (precise to `touchAfter`). */
  get lastSeenAt(): Date {
    return this.#state.record?.lastSeenAt ?? this.#state.createdAt;
  }
  /** When the data or the user last changed (the creation time until then). */
  get updatedAt(): Date {
    return this.#state.record?.updatedAt ?? this.#state.createdAt;
  }
  /** When the user logged in, or null. */
  get authenticatedAt(): Date | null {
    return this.#state.record?.authenticatedAt ?? null;
  }
  /** When the session ends unless used again (the earlier of the idle and absolute expiry). */
  get expiresAt(): Date {
    return this.#state.record?.expiresAt ?? this.#state.expiresAt;
  }
  /** When the session ends at the latest (its absolute lifetime), whatever its use. */
  get absoluteExpiresAt(): Date {
    const state = this.#state;
    return state.record?.absoluteExpiresAt ?? new Date(state.createdAt.getTime() + state.controller.absoluteTimeoutMs);
  }
  /** Version of the stored data; increases on each write. 0 while not stored. */
  get version(): number {
    return this.#state.record?.version ?? 0;
  }
  /** True when the data changed since it was read or last written. */
  get isDirty(): boolean {
    const state = this.#state;
    return state.cleared || state.changes.size > 0;
  }

  /** The value of `key`, or undefined. */
  get<K extends keyof Data & string>(key: K): Data[K] | undefined {
    const data = this.#state.data;
    return Object.hasOwn(data, key) ? (data[key] as Data[K]) : undefined;
  }
  /** Whether `key` is set. */
  has(key: keyof Data & string): boolean {
    return Object.hasOwn(this.#state.data, key);
  }
  /**
   * Sets `key`. The value must be JSON: Dates are stored as ISO strings, `undefined`
   * deletes the key, and BigInt or functions throw {@link SessionDataError}. Changing a
   * nested object in place is not seen: set the key again.
   */
  set<K extends keyof Data & string>(key: K, value: Data[K]): this {
    const state = this.#state;
    refuseReadOnly(state, "set");
    checkKey(key);
    const text = serializeValue(key, value);
    if (text === undefined) return this.delete(key);
    state.data[key] = JSON.parse(text);
    state.changes.set(key, text);
    return this;
  }
  /** Deletes `key`. */
  delete(key: keyof Data & string): this {
    const state = this.#state;
    refuseReadOnly(state, "delete");
    checkKey(key);
    if (!Object.hasOwn(state.data, key) && !state.changes.has(key)) return this;
    delete state.data[key];
    state.changes.set(key, undefined);
    return this;
  }
  /** Deletes every key. */
  clear(): this {
    const state = this.#state;
    refuseReadOnly(state, "clear");
    state.data = emptyData();
    state.changes.clear();
    state.cleared = true;
    return this;
  }
  /** The keys that are set. */
  keys(): string[] {
    return Object.keys(this.#state.data);
  }
  /** A copy of the data (prototype-free). */
  toJSON(): Partial<Data> {
    return toData(this.#state.data) as Partial<Data>;
  }

  /**
   * Logs `userId` in: a new token, the user bound, the timeouts of a normal or "remember
   * me" session. Stored before it resolves. The old token stops naming the session at once
   * (no `staleTtl` grace, unlike {@link rotate}): a token someone planted or saw before the
   * login is worthless after it. Requests still in flight with the old token see a new,
   * empty session whose writes are refused (`SessionConflictError`).
   */
  async login(userId: string, options: LoginOptions = {}): Promise<void> {
    refuseReadOnly(this.#state, "login");
    return noted(this.#state, this.#state.controller.login(this, userId, options));
  }
  /**
   * Issues a new token for the same session; call it on any privilege change. The old
   * token keeps working for `staleTtl` (10 s), so requests already in flight are not logged
   * out; only the holder of the current token can rotate, so there is one successor.
   */
  async rotate(): Promise<void> {
    refuseReadOnly(this.#state, "rotate");
    return noted(this.#state, this.#state.controller.rotate(this));
  }
  /**
   * Deletes the session in the database and clears the cookie; the object becomes a new,
   * empty session. With `{ keepData: true }`, signs the user out but keeps the session and
   * its data under a new token (the old one stops working at once).
   */
  async logout(options: LogoutOptions = {}): Promise<void> {
    refuseReadOnly(this.#state, "logout");
    return noted(this.#state, this.#state.controller.logout(this, options));
  }
}
