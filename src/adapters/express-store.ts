/**
 * `PgSessionStore`: an express-session `Store` on pgsession's table, so that an app on
 * express-session + connect-pg-simple switches by changing the `store:` line. It serves
 * @fastify/session too, which takes express-session's stores.
 *
 * express-session's sid plays the token: the table holds only its SHA-256, never the sid.
 * The session lives as long as its cookie says, as in express-session: every `set` and
 * `touch` carries the cookie, whose remaining lifetime (`maxAge`, else `expires`, else the
 * `ttl` option) becomes the session's, counted by the database's clock; `touch` writes at
 * most once per tenth of it, and a cookie already expired ends the session. There is no
 * absolute limit unless `absoluteTtl` sets one. A `set` for a session that was destroyed,
 * revoked or expired fails with `SessionGoneError` instead of bringing it back (a sid nobody
 * has stored yet is inserted). `all()` is keyed by public session ids, since sids are not stored.
 * @module
 */
import { EventEmitter } from "node:events";
import { SessionConfigError, SessionGoneError } from "../errors.js";
import { createSessions } from "../create-sessions.js";
import type { StoreDriver } from "../driver.js";
import { validateIdentifier } from "../lib/identifier.js";
import type { Sessions } from "../manager/manager.js";
import { isForeignKey, type TokenStore } from "../manager/token-store.js";
import { UNBOUNDED_MS } from "../session/timeouts.js";
import { findStoreBase, INHERITED, type StoreBase } from "./express-store-base.js";
import type { PgSessionStoreOptions, SessionToStore, StoreCallback, StoredCookie, StoredExpressSession } from "./express-store-types.js";

export type { PgSessionStoreOptions, SessionToStore, StoreCallback, StoredCookie, StoredExpressSession } from "./express-store-types.js";

const LIST_LIMIT = 10_000;
const DAY_MS = 86_400_000;

/**
 * Settles `promise` into a Node-style callback, called on a later tick outside any promise
 * reaction: an exception the callback throws is then an ordinary uncaught exception, as
 * with connect-pg-simple, instead of an unhandled rejection that hides it.
 */
function done<T>(promise: Promise<T>, callback: StoreCallback<T> | undefined): void {
  promise.then(
    (value) => {
      if (callback) process.nextTick(callback, null, value);
    },
    (err: unknown) => {
      if (callback) process.nextTick(callback, err);
    },
  );
}

/** Seconds as milliseconds; throws {@link SessionConfigError} unless a positive number. */
function seconds(name: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !(value > 0) || value * 1000 > UNBOUNDED_MS) {
    throw new SessionConfigError(name, "must be a positive number of seconds (at most 100 years)");
  }
  return Math.ceil(value * 1000);
}

/**
 * Milliseconds the cookie gives the session from now (zero or less: it has expired), from
 * its `maxAge` (express-session's and @fastify/session's live cookies), else its `expires`
 * (the stored JSON); null when it gives none.
 */
function cookieLeftMs(cookie: StoredCookie | null | undefined): number | null {
  if (cookie === null || typeof cookie !== "object") return null;
  if (typeof cookie.maxAge === "number" && !Number.isNaN(cookie.maxAge)) return cookie.maxAge;
  if (cookie.expires === null || cookie.expires === undefined) return null;
  const at = new Date(cookie.expires).getTime();
  return Number.isNaN(at) ? null : at - Date.now();
}

/**
 * An express-session store on PostgreSQL that keeps only hashes of session ids; a store
 * for @fastify/session too.
 *
 * @example
 * ```ts
 * import session from "express-session";
 * import { PgSessionStore } from "pgsession/express-session";
 * app.use(session({ store: new PgSessionStore({ pool }), secret: process.env.SECRET!, resave: false, saveUninitialized: false }));
 * ```
 */
export class PgSessionStore extends EventEmitter {
  readonly #options: PgSessionStoreOptions;
  /** express-session's `Store` (or @fastify/session's), whose own methods this store lends. */
  readonly #base: StoreBase;
  readonly #ttlMs: number | undefined;
  readonly #absoluteMs: number | undefined;
  /** The session manager, made once. */
  #instance: Promise<Sessions<object>> | undefined;
  /** The manager once migrated and pruning; dropped when that failed, so the next use tries again. */
  #ready: Promise<Sessions<object>> | undefined;
  #stopPruning: (() => void) | undefined;
  #bySidStore: TokenStore | undefined;

  /** Throws {@link SessionConfigError} when express-session's `Store` cannot be found, or an option is invalid. */
  constructor(options: PgSessionStoreOptions = {}) {
    super();
    this.#options = options;
    this.#base = findStoreBase(options.session);
    this.#ttlMs = seconds("ttl", options.ttl);
    this.#absoluteMs = seconds("absoluteTtl", options.absoluteTtl);
    // The manager is made at first use (pg is loaded then): check its names now.
    if (options.schemaName !== undefined) validateIdentifier(options.schemaName, "schemaName");
    if (options.tableName !== undefined) validateIdentifier(options.tableName, "tableName");
  }

  /** The pgsession instance behind the store (created on first use when not given). */
  sessions(): Promise<Sessions<object>> {
    const ready = (this.#ready ??= this.#open());
    // A start that failed (the database was down) is tried again by the next request.
    ready.catch(() => {
      if (this.#ready === ready) this.#ready = undefined;
    });
    return ready;
  }

  async #open(): Promise<Sessions<object>> {
    const sessions = await (this.#instance ??= this.#create());
    if (this.#options.createTableIfMissing ?? !this.#options.sessions) await sessions.migrate();
    const every = this.#options.pruneSessionInterval ?? 900;
    // Failures are warned about on the console: an "error" event nobody listens to (express-session
    // does not) would throw inside the timer and end the process.
    if (every !== false && !this.#stopPruning) this.#stopPruning = sessions.startPruning({ every: every * 1000 });
    return sessions;
  }

  async #create(): Promise<Sessions<object>> {
    const options = this.#options;
    let sessions = options.sessions;
    if (!sessions) {
      const { pgStore } = await import("../store/pg.js");
      const store: StoreDriver = options.pool
        ? pgStore(options.pool as Parameters<typeof pgStore>[0])
        : pgStore({ connectionString: options.conString ?? process.env.DATABASE_URL });
      sessions = createSessions({
        store,
        ...(options.schemaName && { schema: options.schemaName }),
        ...(options.tableName && { table: options.tableName }),
      });
    }
    // express-session hands the store its data in clear and keys it by its own sid, which this
    // store does not seal: refuse rather than write plaintext into a table the application
    // believes encrypted.
    if (sessions.options.encrypt) {
      throw new SessionConfigError(
        "sessions",
        "PgSessionStore does not support the encrypt option: use pgsession's own middleware for encrypted sessions",
      );
    }
    return sessions;
  }

  /** Milliseconds the session lives from now by its cookie (zero or less: it has expired), else the `ttl`. */
  #lifetimeMs(session: SessionToStore | undefined, sessions: Sessions<object>): number {
    const left = cookieLeftMs(session?.cookie);
    if (left === null) return this.#ttlMs ?? Math.min(sessions.options.standard.idleMs, DAY_MS);
    return Math.min(Math.floor(left), UNBOUNDED_MS);
  }

  /** The low-level store behind this one, addressed by express-session's sids. */
  async #bySid(): Promise<{ sessions: Sessions<object>; store: TokenStore }> {
    const sessions = await this.sessions();
    // The manager is made once (#instance), so is its view by sid: not one per request.
    return { sessions, store: (this.#bySidStore ??= sessions.store.withForeignKeys()) };
  }

  /**
   * Reads a live session, or null. Reading changes nothing: the middleware's `touch` and `set`
   * extend it. `S` is the session type the caller's middleware declares.
   */
  get<S = StoredExpressSession>(sid: string, callback: StoreCallback<S | null>): void {
    done(
      (async () => {
        const found = await (await this.#bySid()).store.get(sid);
        return found ? (found.data as S) : null;
      })(),
      callback,
    );
  }

  /**
   * Stores the session for as long as its cookie says: replaces the data and lifetime of a
   * live one, inserts one never stored, and ends one whose cookie has expired. Fails with
   * `SessionGoneError` for a session that was destroyed, revoked or expired.
   */
  set(sid: string, session: SessionToStore, callback?: StoreCallback<void>): void {
    done(
      (async () => {
        if (!isForeignKey(sid)) throw new SessionGoneError("pgsession: not a valid session id; nothing was written");
        const { sessions, store } = await this.#bySid();
        const ttl = this.#lifetimeMs(session, sessions);
        if (ttl <= 0) {
          await store.end(sid);
          return;
        }
        await store.put(sid, session as StoredExpressSession, {
          ttl,
          ...(this.#absoluteMs !== undefined && { absoluteTimeout: this.#absoluteMs }),
        });
      })(),
      callback,
    );
  }

  /**
   * Renews the session's lifetime from its cookie (ending it if the cookie has expired);
   * writes only when that moves its expiry by a tenth of the lifetime or more.
   */
  touch(sid: string, session: SessionToStore, callback?: StoreCallback<void>): void {
    done(
      (async () => {
        const { sessions, store } = await this.#bySid();
        const ttl = this.#lifetimeMs(session, sessions);
        if (ttl <= 0) await store.end(sid);
        else await store.renew(sid, { ttl });
      })(),
      callback,
    );
  }

  /**
   * Ends the session. Its row stays, emptied and expired, until the next prune: a request
   * still in flight that saves afterwards is refused instead of re-creating it.
   */
  destroy(sid: string, callback?: StoreCallback<void>): void {
    done(
      (async () => {
        await (await this.#bySid()).store.end(sid);
      })(),
      callback,
    );
  }

  /** Every live session (at most 10 000), keyed by public session id: sids are not stored. */
  all<S = StoredExpressSession>(callback: StoreCallback<Record<string, S>>): void {
    done(
      (async () => {
        const rows = await (await this.#bySid()).store.list(LIST_LIMIT);
        return Object.fromEntries(rows.map((row) => [row.id, row.data as S]));
      })(),
      callback,
    );
  }

  /** How many sessions are live. */
  length(callback: StoreCallback<number>): void {
    done((async () => (await this.#bySid()).store.count())(), callback);
  }

  /** Deletes every session. */
  clear(callback?: StoreCallback<void>): void {
    done(
      (async () => {
        await (await this.#bySid()).store.clear();
      })(),
      callback,
    );
  }

  /**
   * express-session's `Store#createSession`: the request's session object from stored data.
   * `S` is express-session's `Session` type (pgsession does not depend on its types).
   */
  createSession<S = unknown>(req: object, session: SessionToStore): S {
    return this.#inherited("createSession").call(this, req, session) as S;
  }

  /** express-session's `Store#regenerate`: destroys the request's session and gives it a new one. */
  regenerate(req: object, callback: (err?: unknown) => void): void {
    this.#inherited("regenerate").call(this, req, callback);
  }

  /** express-session's `Store#load`: a stored session as a session object (`S`, as for createSession), or undefined. */
  load<S = unknown>(sid: string, callback: (err: unknown, session?: S) => void): void {
    this.#inherited("load").call(this, sid, callback);
  }

  /** The base class's own method, run on this store (the base is express-session's, resolved at run time). */
  #inherited(name: (typeof INHERITED)[number]): (...args: unknown[]) => unknown {
    const method = (this.#base.prototype as Record<string, unknown>)[name];
    if (typeof method !== "function") {
      throw new SessionConfigError("session", `${name}() is express-session's, and this store was made on another middleware's Store`);
    }
    return method as (...args: unknown[]) => unknown;
  }

  /** Stops pruning and, when the store created its pgsession instance, closes it. */
  async close(): Promise<void> {
    this.#stopPruning?.();
    // A manager whose start failed still holds a pool to end; one never made, nothing.
    const sessions = this.#instance && !this.#options.sessions ? await this.#instance.catch(() => null) : null;
    await sessions?.close();
  }
}
