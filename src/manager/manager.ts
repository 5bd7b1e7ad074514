/**
 * The session manager: one object per application, built by `createSessions`. Each
 * operation lives in a module of its own (resolve, commit, login, rotate, logout, users,
 * prune, transaction) over one shared {@link ManagerContext}; this class only routes.
 * Most of its length is the documentation of the public methods; the work is in the operation modules.
 * @module
 */
import { countCookie, readCookie } from "../session/cookie.js";
import { dataCodec } from "../session/codec.js";
import { SessionEvents, type SessionEventListener, type SessionEventName } from "../session/events.js";
import { stateOf, type RequestContext, type Session, type SessionData } from "../session/session.js";
import type { MigrationStatus, SessionSql, SessionStats, SessionTable, TableCounts } from "../session/table.js";
import { commitSession, needsCommit, unsentCookie, type CommitOptions } from "./commit.js";
import type { CacheStatus, ReadCache } from "./cache/read-cache.js";
import type { ManagerContext } from "./context.js";
import { loginSession } from "./login.js";
import { logoutSession } from "./logout.js";
import type { ResolvedOptions } from "./options.js";
import { backgroundPruneOf, pruneNow, startBackgroundPrune, type BackgroundPruneOptions, type PruneOptions } from "./prune.js";
import { resolveToken } from "./resolve.js";
import { rotateSession } from "./rotate.js";
import { TokenStore } from "./token-store.js";
import { runInSession } from "./transaction.js";
import { listUserSessions, revokeSession, revokeUserSessions, type UserSession } from "./users.js";
import { newPublicId } from "./write.js";

/**
 * The session manager. Create one per application with `createSessions`.
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
export class SessionManager<Data extends object = SessionData> {
  /** Validated options. */
  readonly options: ResolvedOptions;
  /** The low-level token store: `create`, `get`, `set`, `delete`, `cleanup`. */
  readonly store: TokenStore;
  readonly #ctx: ManagerContext;
  readonly #timers = new Set<() => void>();
  /** Stops the automatic prune (`options.prune`), while it runs. */
  #stopAutomaticPrune: (() => void) | null = null;

  readonly #cache: ReadCache | null;

  /** @internal Use `createSessions()`. */
  constructor(options: ResolvedOptions, table: SessionTable, cache: ReadCache | null = null) {
    this.options = options;
    this.#cache = cache;
    const ctx: ManagerContext = {
      options,
      table,
      codec: dataCodec(options.encrypt),
      events: new SessionEvents(),
      controller: {
        newPublicId: (createdAt) => newPublicId(ctx, createdAt),
        absoluteTimeoutMs: options.standard.absoluteMs,
        login: (session, userId, loginOptions) => loginSession(ctx, session, userId, loginOptions),
        rotate: (session) => rotateSession(ctx, session),
        logout: (session, logoutOptions) => logoutSession(ctx, session, logoutOptions),
      },
    };
    this.#ctx = ctx;
    this.store = new TokenStore(ctx);
    if (options.prune) {
      const stop = startBackgroundPrune(ctx, options.prune, 0.2);
      this.#timers.add(stop);
      this.#stopAutomaticPrune = () => {
        stop();
        this.#timers.delete(stop);
      };
    }
  }

  /**
   * Creates the schema and table, or brings them up to date. Safe to run on every start.
   * With the read cache on (or `{ cache: true }`), also installs the triggers that keep
   * every instance's cache true; they stay until dropped (see the README's "Read cache").
   *
   * @example
   * ```ts
   * await sessions.migrate(); // [1, 2, 3, 4, 5] the first time (every migration shipped), [] after
   * ```
   */
  migrate(options: { cache?: boolean } = {}): Promise<number[]> {
    return this.#ctx.table.migrate({ unlogged: this.options.unlogged, cache: options.cache ?? this.options.cache !== null });
  }

  /**
   * The migrations applied to the table, and the latest this version of pgsession ships.
   *
   * @example
   * ```ts
   * const { applied, latest } = await sessions.migrationStatus();
   * if (!applied.includes(latest)) console.log("run pgsession migrate");
   * ```
   */
  migrationStatus(): Promise<MigrationStatus> {
    return this.#ctx.table.migrationStatus();
  }

  /**
   * Live, expired and authenticated counts of the sessions table (`pgsession status`);
   * null when the table does not exist yet.
   *
   * @example
   * ```ts
   * const counts = await sessions.counts(); // { live, expired, authenticated, ... } | null
   * ```
   */
  async counts(): Promise<TableCounts | null> {
    return (await this.#ctx.table.exists()) ? this.#ctx.table.counts() : null;
  }

  /**
   * Usage statistics over the live sessions (`pgsession stats`).
   *
   * @example
   * ```ts
   * const { live, rememberShare } = await sessions.stats();
   * ```
   */
  stats(): Promise<SessionStats> {
    return this.#ctx.table.stats();
  }

  /**
   * What the read cache is doing (`cache` option): whether it answers now, how many
   * sessions it holds, hits and misses. Null without the cache.
   *
   * @example
   * ```ts
   * const status = sessions.cacheStatus(); // { answering: true, entries: 812, maxEntries: 10000, hits: 90211, misses: 1304, losses: 0 }
   * ```
   */
  cacheStatus(): CacheStatus | null {
    return this.#cache ? this.#cache.status() : null;
  }

  /** Where the sessions live, and which client reaches them. */
  get table(): {
    /** Schema of the sessions table. */
    schema: string;
    /** Name of the sessions table. */
    table: string;
    /** The driver's client: `"pg"`, `"postgres"` or `"pglite"`. */
    driver: string;
  } {
    const { name, kind } = this.#ctx.table;
    return { schema: name.schema, table: name.table, driver: kind };
  }

  /**
   * The session of a request, from its `Cookie` header. A missing, malformed, unknown,
   * expired or revoked cookie gives a new session (not stored until it has data or a user).
   * Throws `SessionStoreError` when the database fails: never "no session".
   */
  resolve(cookieHeader: string | readonly string[] | null | undefined, context: RequestContext = {}): Promise<Session<Data>> {
    const token = readCookie(cookieHeader, this.options.cookie.name);
    if (token === null && this.#ctx.events.has("duplicateCookie")) {
      const count = countCookie(cookieHeader, this.options.cookie.name);
      if (count > 1) this.#ctx.events.emit("duplicateCookie", { count });
    }
    return resolveToken<Data>(this.#ctx, token, context);
  }

  /** Like {@link resolve}, from a bare token (an Authorization header, a WebSocket handshake). */
  resolveToken(token: string | null | undefined, context: RequestContext = {}): Promise<Session<Data>> {
    return resolveToken<Data>(this.#ctx, token, context);
  }

  /**
   * Writes what the request changed (only the changed keys; nothing when nothing changed)
   * and returns the `Set-Cookie` value to send, or null when the cookie stays as it is.
   * Throws `SessionGoneError` when the session was revoked meanwhile: it is not brought back.
   */
  commit(session: Session<Data>, options: CommitOptions = {}): Promise<string | null> {
    return commitSession(this.#ctx, session, options);
  }

  /**
   * Whether {@link commit} would write to the database or return a Set-Cookie value. False
   * for a request that changed nothing: adapters then let its response out at once.
   *
   * @example
   * ```ts
   * if (!sessions.needsCommit(session)) return response; // nothing to store, no cookie to send
   * ```
   */
  needsCommit(session: Session<Data>): boolean {
    return needsCommit(stateOf(session), this.options.saveUninitialized);
  }

  /**
   * The Set-Cookie value for what the database already holds but the client was not sent:
   * the new token of a stored login or rotation, or the clearing cookie of a stored logout.
   * Null when there is none. Adapters add it to a response that fails after such a change.
   *
   * @example
   * ```ts
   * try { setCookie = await sessions.commit(session); }
   * catch (err) { const stored = sessions.unsentCookie(session); if (stored) headers.append("Set-Cookie", stored); throw err; }
   * ```
   */
  unsentCookie(session: Session<Data>): string | null {
    return unsentCookie(this.#ctx, stateOf(session));
  }

  /**
   * Live sessions of a user, most recently seen first: in `audience`, by default this
   * instance's `audience` option (`audience: null` lists every audience).
   */
  listUserSessions(userId: string, options: { audience?: string | null; current?: Session<Data> | string } = {}): Promise<UserSession[]> {
    const currentId = typeof options.current === "string" ? options.current : options.current?.id;
    return listUserSessions(this.#ctx, userId, options, currentId);
  }

  /** Revokes one session by its public id. Resolves to whether it existed. */
  revokeSession(publicId: string): Promise<boolean> {
    return revokeSession(this.#ctx, publicId);
  }

  /**
   * Revokes a user's sessions: all of them, all but `except` (a session or a public id), or
   * those issued (logged in, or else created) before `issuedBefore`, for back-channel
   * logout. Works in `audience`, by default this instance's (`audience: null`: every
   * audience). Resolves to the count.
   */
  revokeUserSessions(
    userId: string,
    options: { audience?: string | null; except?: Session<Data> | string; issuedBefore?: Date } = {},
  ): Promise<number> {
    const exceptId = typeof options.except === "string" ? options.except : (options.except?.id ?? null);
    return revokeUserSessions(this.#ctx, userId, options, exceptId);
  }

  /**
   * Deletes expired sessions in bounded batches (`batchSize` rows examined each, default
   * 1000); resolves to the number deleted. `pause` (default none) waits between batches,
   * holding no lock or transaction meanwhile.
   *
   * @example
   * ```ts
   * await sessions.prune({ batchSize: 1000, pause: "10ms", onProgress: ({ deleted }) => console.log(deleted) });
   * ```
   */
  prune(options: PruneOptions = {}): Promise<number> {
    return pruneNow(this.#ctx, options);
  }

  /**
   * Prunes every `every` (default `"5m"`) on an unref'd timer: it never keeps the process
   * alive, and only one instance of several prunes at a time. `pause` defaults to `"20ms"`
   * here: a background job should leave the database to live traffic. Returns a function
   * that stops it. It replaces the automatic prune (`createSessions({ prune })`), which
   * stops; further calls add timers beside it.
   *
   * @example
   * ```ts
   * const stop = sessions.startPruning({ every: "10m" }); // batches of 1000, 20 ms apart
   * ```
   */
  startPruning(options: BackgroundPruneOptions = {}): () => void {
    const stop = startBackgroundPrune(this.#ctx, backgroundPruneOf(options, "startPruning"));
    this.#stopAutomaticPrune?.();
    this.#stopAutomaticPrune = null;
    this.#timers.add(stop);
    return () => {
      stop();
      this.#timers.delete(stop);
    };
  }

  /**
   * Listens to a lifecycle event (`created`, `rotated`, `touched`, `saved`, `revoked`,
   * `expired`, `pruned`, and `duplicateCookie` for a request that carried the session cookie twice). Events carry the public id and the user, never the token, and
   * fire once per occurrence after the change is stored. Returns a function that stops listening.
   *
   * @example
   * ```ts
   * const off = sessions.on("revoked", ({ id, userId, reason }) => audit.info({ id, userId, reason }));
   * off(); // stop listening
   * ```
   */
  on<E extends SessionEventName>(name: E, listener: SessionEventListener<E>): () => void {
    return this.#ctx.events.on(name, listener);
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
    this.#ctx.events.off(name, listener);
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
  transaction<T>(session: Session<Data>, fn: (sql: SessionSql) => Promise<T>): Promise<T> {
    return runInSession(this.#ctx, session, fn);
  }

  /** Stops pruning and closes the database client if pgsession created it. */
  async close(): Promise<void> {
    for (const stop of this.#timers) stop();
    this.#timers.clear();
    await this.#ctx.table.close();
  }
}

/** The former name of {@link SessionManager}, kept as an alias. */
export { SessionManager as Sessions };
