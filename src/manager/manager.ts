/**
 * `createSessions`: resolve a request's session, commit its changes, log users in and
 * out, list and revoke sessions, prune. Framework-free: strings in, values out.
 * @module
 */
import { readCookie, serializeSessionCookie } from "../session/cookie.js";
import { parseDuration, type Duration } from "../lib/duration.js";
import { SessionConfigError, SessionConflictError, SessionDataError, SessionDataTooLargeError, SessionError, SessionGoneError, SessionStoreError, toStoreError } from "../errors.js";
import { resolveOptions, type ResolvedOptions, type SessionsOptions, type TimeoutPolicy } from "./options.js";
import { emptyData, Session, stateOf, toData, type LoginOptions, type RequestContext, type SessionController, type SessionData, type SessionState } from "../session/session.js";
import { generatePublicId, generateToken, isWellFormedToken, tokenHashBytes } from "../session/token.js";
import { TokenStore } from "./token-store.js";
import { lazyDefaultDriver } from "../store/default-driver.js";
import { SessionStore, type DataChanges, type MissReason, type SessionSummary } from "../store/session-store.js";
import { startTimer } from "../lib/timer.js";
import { cipherOf, type SessionCipher } from "../session/encryption.js";
import { SessionEvents, type SessionEvent, type SessionEventListener, type SessionEventName } from "../session/events.js";
import { needsSaveBeforeRotation, rotationColumns, saveSealed, sealNewRow, setDataKey } from "./sealed-writes.js";
import { createSessionSql, enterSession, lockUser, trimUserSessions, type SessionSql } from "../store/session-sql.js";
import type { Queryable, StoreDriver } from "../store/driver.js";

/** A session as listed for its user. */
export interface UserSession extends SessionSummary {
  /** True for the session passed as `current`. */
  current: boolean;
}

/** Options of {@link Sessions.commit}. */
export interface CommitOptions {
  /** Write only if nobody wrote the session since it was read; else throw {@link SessionConflictError}. */
  compareAndSet?: boolean;
}

const MAX_IP = 64;
const MAX_USER_AGENT = 512;
const MAX_USER_ID = 256;

function clean(value: string | null | undefined, max: number): string | null {
  if (typeof value !== "string" || value.length === 0) return null;
  // PostgreSQL text cannot hold NUL; these fields are informative, so trim rather than fail.
  return value.replaceAll("\u0000", "").slice(0, max);
}

/** The most rows one prune batch may examine (`batchSize`); the CLI checks the same bound. */
export const MAX_PRUNE_BATCH = 100_000;
/** The longest pause between prune batches, in ms (`pause`); the CLI checks the same bound. */
export const MAX_PRUNE_PAUSE_MS = 60_000;

/** The rows a prune examines per batch: an integer from 1 to 100,000 (default 1000). */
function batchSizeOf(value: number | undefined, option: string): number {
  if (value === undefined) return 1000;
  if (!Number.isInteger(value) || value < 1 || value > MAX_PRUNE_BATCH) {
    throw new SessionConfigError(option, `must be an integer from 1 to ${MAX_PRUNE_BATCH}, got ${String(value)}`);
  }
  return value;
}

/**
 * The pause between the batches of a background prune (`startPruning`) unless one is given:
 * about as long as a batch of 1,000 rows takes, so that clearing a large backlog never
 * crowds out the requests it runs beside (the benchmark's prune: /read p99 within 2x).
 */
export const DEFAULT_BACKGROUND_PRUNE_PAUSE_MS = 20;

/** The wait between a prune's batches in ms: `fallback` when none is given, at most a minute. */
function pauseOf(value: Duration | undefined, option: string, fallback = 0): number {
  if (value === undefined) return fallback;
  const ms = parseDuration(value, option, { allowZero: true });
  if (ms > MAX_PRUNE_PAUSE_MS) throw new SessionConfigError(option, `is longer than a minute (a pause between batches of a prune)`);
  return ms;
}

function changesOf(state: SessionState): DataChanges {
  const set: string[] = [];
  const deleted: string[] = [];
  for (const [key, text] of state.changes) {
    if (text === undefined) deleted.push(key);
    else set.push(`${JSON.stringify(key)}:${text}`);
  }
  return { deleted: JSON.stringify(deleted), set: `{${set.join(",")}}`, cleared: state.cleared };
}

/** The driver's view of one open transaction, so that a SessionStore can run inside it. */
function driverOn(tx: Queryable, kind: string): StoreDriver {
  return { kind, query: (stmt, params) => tx.query(stmt, params), exec: (script) => tx.exec(script), transaction: (fn) => fn(tx), close: async () => {} };
}

function markWritten(state: SessionState): void {
  state.changes.clear();
  state.cleared = false;
}

/**
 * The session manager. Create one per application with {@link createSessions}.
 *
 * @example
 * ```ts
 * const sessions = createSessions({ store: pgStore(pool) });
 * await sessions.migrate();
 * const session = await sessions.resolve(request.headers.get("cookie"), { secure: true });
 * session.set("theme", "dark");
 * const setCookie = await sessions.commit(session); // string or null
 * ```
 */
export class Sessions<Data extends object = SessionData> {
  /** Validated options. */
  readonly options: ResolvedOptions;
  /** The low-level token store: `create`, `get`, `set`, `delete`, `cleanup`. */
  readonly store: TokenStore;
  /** The SQL layer (for the CLI and advanced use). */
  readonly db: SessionStore;
  readonly #controller: SessionController;
  readonly #timers = new Set<() => void>();
  readonly #events = new SessionEvents();
  readonly #cipher: SessionCipher | null;

  constructor(options: SessionsOptions = {}) {
    this.options = resolveOptions(options);
    this.db = new SessionStore(options.store ?? lazyDefaultDriver(), { schema: this.options.schema, table: this.options.table });
    this.store = new TokenStore(this.db, this.options);
    this.#cipher = this.options.encrypt ? cipherOf(this.options.encrypt) : null;
    this.#controller = {
      login: (session, userId, loginOptions) => this.#login(session, userId, loginOptions),
      rotate: (session) => this.#rotate(session),
      logout: (session) => this.#logout(session),
    };
  }

  /** The injected clock, or null for the database clock. */
  #now(): Date | null {
    return this.options.now ? this.options.now() : null;
  }
  #clock(): Date {
    return this.options.now ? this.options.now() : new Date();
  }

  /** Creates the schema and table, or brings them up to date. Safe to run on every start. */
  migrate(): Promise<number[]> {
    return this.db.migrate({ unlogged: this.options.unlogged });
  }

  /**
   * The session of a request, from its `Cookie` header. A missing, malformed, unknown,
   * expired or revoked cookie gives a new session (not stored until it has data or a user).
   * Throws {@link SessionStoreError} when the database fails: never "no session".
   */
  resolve(cookieHeader: string | readonly string[] | null | undefined, context: RequestContext = {}): Promise<Session<Data>> {
    return this.resolveToken(readCookie(cookieHeader, this.options.cookie.name), context);
  }

  /** Like {@link resolve}, from a bare token (an Authorization header, a WebSocket handshake). */
  async resolveToken(token: string | null | undefined, context: RequestContext = {}): Promise<Session<Data>> {
    // Anything that is not exactly a token we issue never reaches SQL.
    if (isWellFormedToken(token)) {
      const tokenHash = tokenHashBytes(token);
      const record = await this.db.find(this.#now(), tokenHash);
      if (record === "retired") return this.#fresh(context, true);
      // Encrypted data that cannot be opened (wrong key, tampering) is "no session", after a warning.
      const opened = record && this.#cipher ? this.#cipher.open(record.data, token, record.id, record.current) : null;
      if (record && (opened || !this.#cipher)) {
        const session = new Session<Data>({
          token, tokenHash, publicId: record.id, record, data: opened ? opened.data : toData(record.data), changes: new Map(), cleared: false,
          cookieChanged: false, loggedOut: false, retired: false, context, dataLength: record.dataLength, createdAt: record.createdAt, expiresAt: record.expiresAt,
          controller: this.#controller,
        });
        if (opened) setDataKey(stateOf(session), opened.dataKey);
        if (record.touched) this.#emit("touched", record);
        return session;
      }
    }
    return this.#fresh(context);
  }

  #fresh(context: RequestContext, retired = false): Session<Data> {
    const token = generateToken(this.options.randomBytes);
    const createdAt = this.#clock();
    const { idleMs, absoluteMs } = this.options.standard;
    return new Session<Data>({
      token, tokenHash: tokenHashBytes(token), publicId: generatePublicId(this.options.randomBytes, createdAt.getTime()), record: null,
      data: emptyData(), changes: new Map(), cleared: false, cookieChanged: false, loggedOut: false, retired, context, dataLength: 2, createdAt,
      expiresAt: new Date(createdAt.getTime() + Math.min(idleMs, absoluteMs)), controller: this.#controller,
    });
  }

  /**
   * Throws {@link SessionDataTooLargeError} when the data would pass `maxDataSize`. Exact
   * (the whole data serialized) only when a cheap upper bound does not show that it fits:
   * the bound of the data as read, plus every changed key and value at its longest, at 3
   * bytes (UTF-8's most) per character.
   */
  #checkSize(state: SessionState): void {
    let length = state.cleared ? 2 : state.dataLength;
    for (const [key, text] of state.changes) length += 6 * key.length + 4 + (text?.length ?? 0);
    if (length * 3 > this.options.maxDataSize) {
      length = Buffer.byteLength(JSON.stringify(state.data));
      if (length > this.options.maxDataSize) throw new SessionDataTooLargeError(length, this.options.maxDataSize);
    }
    state.dataLength = length;
  }

  async #insert(state: SessionState, userId: string | null, policy: TimeoutPolicy, remember: boolean, db = this.db): Promise<"created"> {
    this.#checkSize(state);
    state.record = await db.insert(this.#now(), {
      id: state.publicId, tokenHash: state.tokenHash, userId, audience: this.options.audience,
      data: this.#cipher ? sealNewRow(this.#cipher, state) : JSON.stringify(state.data), remember, ip: clean(state.context.ip, MAX_IP),
      userAgent: clean(state.context.userAgent, MAX_USER_AGENT), idleMs: policy.idleMs,
      touchAfterMs: policy.touchAfterMs, absoluteMs: policy.absoluteMs,
    });
    markWritten(state);
    state.cookieChanged = true;
    state.retired = false;
    return "created";
  }

  /**
   * Writes what the request changed (only the changed keys; nothing when nothing changed)
   * and returns the `Set-Cookie` value to send, or null when the cookie stays as it is.
   * Throws {@link SessionGoneError} when the session was revoked meanwhile: it is not brought back.
   */
  async commit(session: Session<Data>, options: CommitOptions = {}): Promise<string | null> {
    const state = stateOf(session);
    if (state.record === null) {
      if (state.retired) {
        // Stored, these changes would start a session whose cookie replaces the login's.
        if (state.changes.size > 0) throw new SessionConflictError("a login replaced this session's token while the request ran; nothing was saved");
        return null;
      }
      if (state.changes.size > 0 || this.options.saveUninitialized) {
        await this.#insert(state, null, this.options.standard, false);
        this.#emit("created", state.record);
      } else if (state.loggedOut) {
        state.loggedOut = false;
        return this.#cookie(state, "", 0);
      } else {
        return null;
      }
    } else if (state.changes.size > 0 || state.cleared) {
      this.#checkSize(state);
      const result = await this.#save(state, options.compareAndSet === true);
      if (typeof result !== "number") this.#fail(result, "save");
      state.record.version = result as number;
      markWritten(state);
      this.#emit("saved", state.record, { version: result as number });
    }
    const setCookie = this.unsentCookie(session);
    state.cookieChanged = false;
    return setCookie;
  }

  /**
   * Whether {@link commit} would write to the database or return a Set-Cookie value. False
   * for a request that changed nothing: adapters then let its response out at once
   * instead of holding it for a commit that does nothing.
   *
   * @example
   * ```ts
   * if (!sessions.needsCommit(session)) return response; // nothing to store, no cookie to send
   * ```
   */
  needsCommit(session: Session<Data>): boolean {
    const state = stateOf(session);
    if (state.record === null) return state.changes.size > 0 || (this.options.saveUninitialized && !state.retired) || state.loggedOut;
    return state.changes.size > 0 || state.cleared || state.cookieChanged;
  }

  /**
   * The Set-Cookie value for what the database already holds but the client was not sent:
   * the new token of a stored login or rotation, or the clearing cookie of a stored logout.
   * Null when there is none. Adapters add it to a response that fails after such a change
   * (a 503 when the write that followed was refused), so that the client never keeps a
   * token that dies when its grace window ends.
   *
   * @example
   * ```ts
   * try { setCookie = await sessions.commit(session); }
   * catch (err) { const stored = sessions.unsentCookie(session); if (stored) headers.append("Set-Cookie", stored); throw err; }
   * ```
   */
  unsentCookie(session: Session<Data>): string | null {
    const state = stateOf(session);
    if (state.record === null) return state.loggedOut ? this.#cookie(state, "", 0) : null;
    if (!state.cookieChanged) return null;
    const record = state.record;
    const maxAge = record.remember
      ? this.options.cookie.maxAgeMs ?? Math.max(0, record.absoluteExpiresAt.getTime() - this.#clock().getTime())
      : undefined;
    return this.#cookie(state, state.token, maxAge);
  }

  /** A data write: merged key by key in SQL, or for encrypted sessions a compare-and-set with retries. */
  #save(state: SessionState, strict: boolean, db = this.db): Promise<number | MissReason> {
    if (this.#cipher) return saveSealed(this.#cipher, db, this.#now(), state, strict);
    const record = state.record as NonNullable<SessionState["record"]>;
    return db.save(this.#now(), state.publicId, state.tokenHash, changesOf(state), strict ? record.version : null);
  }

  #emit<E extends Exclude<SessionEventName, "pruned" | "saved" | "revoked">>(name: E, session: SessionEvent | null, extra?: never): void;
  #emit<E extends "saved" | "revoked">(name: E, session: SessionEvent | null, extra: Omit<Parameters<SessionEventListener<E>>[0], keyof SessionEvent>): void;
  #emit(name: SessionEventName, session: SessionEvent | null, extra: object = {}): void {
    if (!session || !this.#events.has(name)) return;
    this.#events.emit(name as "created", { id: session.id, userId: session.userId, audience: session.audience, ...extra });
  }

  #cookie(state: SessionState, value: string, maxAgeMs: number | undefined): string {
    return serializeSessionCookie(this.options.cookie, { value, maxAgeMs, secure: state.context.secure === true, now: this.#clock() });
  }

  #fail(reason: MissReason, what: "save" | "rotate"): never {
    if (reason === "gone") throw new SessionGoneError();
    if (reason === "stale") throw new SessionConflictError(`cannot ${what}: another request already replaced this session's token (a rotation or a login)`);
    throw new SessionConflictError("the session was written by another request since it was read (compare-and-set failed)");
  }

  async #login(session: Session<object>, userId: string, options: LoginOptions): Promise<void> {
    if (typeof userId !== "string" || userId.length === 0 || userId.length > MAX_USER_ID || userId.includes("\u0000")) {
      throw new SessionDataError(`userId must be a non-empty string of at most ${MAX_USER_ID} characters without NUL`);
    }
    const remember = options.remember === true;
    const base = remember ? this.options.remember : this.options.standard;
    const idleMs = options.idleTimeout === undefined ? base.idleMs : parseDuration(options.idleTimeout, "login.idleTimeout");
    const absoluteMs = options.absoluteTimeout === undefined ? base.absoluteMs : parseDuration(options.absoluteTimeout, "login.absoluteTimeout");
    const policy: TimeoutPolicy = {
      idleMs, absoluteMs: Math.max(idleMs, absoluteMs),
      touchAfterMs: idleMs === base.idleMs ? base.touchAfterMs : Math.min(base.touchAfterMs, Math.floor(idleMs / 10)),
    };
    const state = stateOf(session);
    if (state.record !== null && !state.record.current) this.#detach(state);
    const bind = (db: SessionStore) => state.record === null
      ? this.#insert(state, userId, policy, remember, db)
      : this.#replaceToken(state, "rotate", {
        userId, remember, ...policy,
        ip: clean(state.context.ip, MAX_IP), userAgent: clean(state.context.userAgent, MAX_USER_AGENT),
      }, db);
    const limit = this.options.maxSessionsPerUser;
    if (limit === null) {
      this.#emit(await bind(this.db), state.record);
      return;
    }
    // The login and the trimming of the user's oldest sessions commit together, and the
    // logins of one user are serialized, so parallel logins cannot overshoot the limit.
    const { done, revoked } = await this.#inTransaction("logging in", async (tx) => {
      await lockUser(tx, this.db.names, userId);
      const done = await bind(new SessionStore(driverOn(tx, this.db.driver.kind), this.db.names));
      const audience = state.record?.audience ?? null;
      return { done, revoked: await trimUserSessions(tx, this.db, this.#now(), userId, audience, limit, state.publicId) };
    });
    this.#emit(done, state.record);
    for (const id of revoked) this.#emit("revoked", { id, userId, audience: state.record?.audience ?? null }, { reason: "limit" });
  }

  /**
   * Turns a session read through the token a rotation replaced (a second tab, or a client
   * whose rotation was stored though its answer was lost) into a new, unstored session
   * holding the same data, for a login: only the current token may rotate, but a user who
   * signs in must not be refused. The session it was read from lives on with its successor.
   */
  #detach(state: SessionState): void {
    const fresh = stateOf(this.#fresh(state.context));
    Object.assign(state, { ...fresh, data: state.data, changes: state.changes, cleared: state.cleared });
  }

  async #inTransaction<T>(what: string, fn: (tx: Queryable) => Promise<T>): Promise<T> {
    try {
      return await this.db.driver.transaction(fn);
    } catch (err) {
      throw err instanceof SessionError ? err : toStoreError(err, what);
    }
  }

  async #rotate(session: Session<object>): Promise<void> {
    const state = stateOf(session);
    if (state.record === null) {
      // Never sent to anyone yet: a new token costs nothing.
      state.token = generateToken(this.options.randomBytes);
      state.tokenHash = tokenHashBytes(state.token);
      return;
    }
    this.#emit(await this.#replaceToken(state, "rotate", null), state.record);
  }

  async #replaceToken(state: SessionState, what: "rotate", login: Parameters<SessionStore["rotate"]>[5], db = this.db): Promise<"rotated"> {
    if (state.record && !state.record.current) this.#fail("stale", what);
    if (state.changes.size > 0 || state.cleared) this.#checkSize(state);
    let changes = changesOf(state);
    if (this.#cipher) {
      // Pending changes go first by compare-and-set; the rotation then only re-wraps the data key.
      if (needsSaveBeforeRotation(state)) {
        const saved = await this.#save(state, false, db);
        if (typeof saved !== "number") this.#fail(saved, what);
        (state.record as NonNullable<SessionState["record"]>).version = saved as number;
        markWritten(state);
      }
    }
    const token = generateToken(this.options.randomBytes);
    const tokenHash = tokenHashBytes(token);
    if (this.#cipher) changes = rotationColumns(this.#cipher, state, token);
    const result = await db.rotate(this.#now(), state.tokenHash, tokenHash, this.options.staleMs, changes, login);
    if (typeof result === "string") this.#fail(result, what);
    state.record = result as NonNullable<SessionState["record"]>;
    const opened = this.#cipher ? this.#cipher.open(state.record.data, token, state.record.id, true) : null;
    state.token = token;
    state.tokenHash = tokenHash;
    state.data = opened ? opened.data : this.#cipher ? state.data : toData(state.record.data);
    markWritten(state);
    state.cookieChanged = true;
    return "rotated";
  }

  async #logout(session: Session<object>): Promise<void> {
    const state = stateOf(session);
    if (state.record !== null) {
      const removed = await this.db.remove(this.#now(), state.tokenHash);
      if (removed) this.#emit("revoked", removed, { reason: "logout" });
    }
    const fresh = stateOf(this.#fresh(state.context));
    Object.assign(state, { ...fresh, loggedOut: true, cookieChanged: false });
  }

  /** The audience a per-user call works in: the one asked for; by default this instance's (null: all). */
  #audienceOf(options: { audience?: string | null }): string | null {
    return options.audience === undefined ? this.options.audience : options.audience;
  }

  /**
   * Live sessions of a user, most recently seen first: in `audience`, by default this
   * instance's `audience` option (`audience: null` lists every audience).
   */
  async listUserSessions(userId: string, options: { audience?: string | null; current?: Session<Data> | string } = {}): Promise<UserSession[]> {
    const currentId = typeof options.current === "string" ? options.current : options.current?.id;
    const rows = await this.db.listByUser(this.#now(), userId, this.#audienceOf(options));
    return rows.map((row) => ({ ...row, current: row.id === currentId }));
  }

  /** Revokes one session by its public id. Resolves to whether it existed. */
  async revokeSession(publicId: string): Promise<boolean> {
    if (typeof publicId !== "string" || publicId.length === 0 || publicId.length > 64) return false;
    const removed = await this.db.revokeById(publicId);
    if (removed) this.#emit("revoked", removed, { reason: "revoked" });
    return removed !== null;
  }

  /**
   * Revokes a user's sessions: all of them, all but `except` (a session or a public id), or
   * those issued (logged in, or else created) before `issuedBefore`, for back-channel
   * logout. Works in `audience`, by default this instance's (`audience: null`: every
   * audience). Resolves to the count.
   */
  async revokeUserSessions(userId: string, options: { audience?: string | null; except?: Session<Data> | string; issuedBefore?: Date } = {}): Promise<number> {
    const exceptId = typeof options.except === "string" ? options.except : options.except?.id ?? null;
    const removed = await this.db.revokeByUser(userId, { audience: this.#audienceOf(options), exceptId, issuedBefore: options.issuedBefore ?? null });
    for (const session of removed) this.#emit("revoked", session, { reason: "revoked" });
    return removed.length;
  }

  /**
   * Deletes expired sessions in bounded batches (`batchSize` rows examined each, default
   * 1000); resolves to the number deleted. `pause` (default none) waits between batches,
   * holding no lock or transaction meanwhile: on a database that also serves traffic, a
   * pause about as long as a batch takes (10-20 ms for 1,000 rows) keeps the prune from
   * crowding out requests, at the price of a longer prune.
   *
   * @example
   * ```ts
   * await sessions.prune({ batchSize: 1000, pause: "10ms", onProgress: ({ deleted }) => console.log(deleted) });
   * ```
   */
  async prune(options: { batchSize?: number; pause?: Duration; onProgress?: (progress: { deleted: number; scanned: number }) => void } = {}): Promise<number> {
    return this.#prune({
      batchSize: batchSizeOf(options.batchSize, "prune.batchSize"), wait: true, pauseMs: pauseOf(options.pause, "prune.pause"),
      ...(options.onProgress && { onBatch: options.onProgress }),
    });
  }

  async #prune(options: { batchSize: number; wait: boolean; pauseMs: number; onBatch?: (progress: { deleted: number; scanned: number }) => void }): Promise<number> {
    const result = await this.db.prune(this.#now(), {
      ...options,
      onExpired: (expired) => {
        for (const session of expired) this.#emit("expired", session);
      },
    });
    if (result.locked) this.#events.emit("pruned", { deleted: result.deleted, scanned: result.scanned });
    return result.deleted;
  }

  /**
   * Prunes every `every` (default `"5m"`) on an unref'd timer: it never keeps the process
   * alive, and only one instance of several prunes at a time. `batchSize` is that of
   * {@link Sessions.prune}; `pause` too, but it defaults to `"20ms"` here: a background job
   * should leave the database to live traffic (`pause: 0` prunes as fast as it can).
   * Returns a function that stops it.
   *
   * @example
   * ```ts
   * const stop = sessions.startPruning({ every: "10m" }); // batches of 1000, 20 ms apart
   * ```
   */
  startPruning(options: { every?: Duration; batchSize?: number; pause?: Duration; onError?: (err: unknown) => void } = {}): () => void {
    const everyMs = parseDuration(options.every ?? "5m", "startPruning.every");
    const batchSize = batchSizeOf(options.batchSize, "startPruning.batchSize");
    const pauseMs = pauseOf(options.pause, "startPruning.pause", DEFAULT_BACKGROUND_PRUNE_PAUSE_MS);
    // Store errors already say "pgsession: pruning failed: ..."; anything else gets that prefix.
    const onError = options.onError ?? ((err: unknown) => console.warn(err instanceof SessionStoreError ? err.message : `pgsession: pruning failed: ${String((err as Error)?.message ?? err)}`));
    const stop = startTimer(everyMs, async () => {
      try {
        await this.#prune({ batchSize, wait: false, pauseMs });
      } catch (err) {
        onError(err);
      }
    });
    this.#timers.add(stop);
    return () => {
      stop();
      this.#timers.delete(stop);
    };
  }

  /**
   * Listens to a lifecycle event (`created`, `rotated`, `touched`, `saved`, `revoked`,
   * `expired`, `pruned`). Events carry the public id and the user, never the token, and
   * fire once per occurrence after the change is stored. Returns a function that stops listening.
   *
   * @example
   * ```ts
   * const off = sessions.on("revoked", ({ id, userId, reason }) => audit.info({ id, userId, reason }));
   * off(); // stop listening
   * ```
   */
  on<E extends SessionEventName>(name: E, listener: SessionEventListener<E>): () => void {
    return this.#events.on(name, listener);
  }

  /**
   * Stops calling `listener` for `name`.
   *
   * @example
   * ```ts
   * sessions.off("created", onCreated);
   * ```
   */
  off<E extends SessionEventName>(name: E, listener: SessionEventListener<E>): void {
    this.#events.off(name, listener);
  }

  /**
   * Runs `fn` in one transaction on one connection in which the SQL functions
   * `<schema>.session_id()`, `<schema>.user_id()` and `<schema>.audience()` return this
   * session's public id, user and audience (the public id even before the session is
   * stored), so Row-Level Security policies and SQL functions can use them. The settings
   * are transaction-local: they end at COMMIT or ROLLBACK and never reach the next user of a
   * pooled connection. COMMIT when `fn` resolves, ROLLBACK when it throws.
   *
   * `sql` is a tagged template whose values are always sent as `$n` parameters, plus
   * `sql.query(text, params)`.
   *
   * @example
   * ```ts
   * // CREATE POLICY own_notes ON notes USING (owner = pgsession.user_id());
   * const notes = await sessions.transaction(session, (sql) => sql`SELECT * FROM notes WHERE done = ${false}`);
   * ```
   */
  async transaction<T>(session: Session<Data>, fn: (sql: SessionSql) => Promise<T>): Promise<T> {
    const state = stateOf(session);
    const current = { id: state.publicId, userId: session.userId, audience: state.record ? state.record.audience : this.options.audience };
    return this.db.driver.transaction(async (tx) => {
      try {
        await enterSession(tx, current);
      } catch (err) {
        throw toStoreError(err, "starting the session transaction");
      }
      return fn(createSessionSql(tx));
    });
  }

  /** Stops pruning and closes the database client if pgsession created it. */
  async close(): Promise<void> {
    for (const stop of this.#timers) stop();
    this.#timers.clear();
    await this.db.driver.close();
  }
}

/**
 * Creates the session manager. Validates every option at once and throws
 * {@link SessionConfigError} naming the one at fault.
 *
 * @example
 * ```ts
 * import pg from "pg";
 * import { createSessions } from "pgsession";
 * import { pgStore } from "pgsession/pg";
 * const sessions = createSessions<{ cart: string[] }>({ store: pgStore(new pg.Pool()), idleTimeout: "2h" });
 * await sessions.migrate();
 * ```
 */
export function createSessions<Data extends object = SessionData>(options: SessionsOptions = {}): Sessions<Data> {
  return new Sessions<Data>(options);
}
