/**
 * `PgSessionStore`: an express-session `Store` on pgsession's table, so that an app on
 * express-session + connect-pg-simple switches by changing the `store:` line.
 *
 * express-session's sid plays the token: the table holds only its SHA-256, never the sid.
 * Reads extend the idle expiry at most once per `touchAfter` (no write per request), a
 * set replaces the data of a live session, and a set for a session that was logged out,
 * revoked or expired fails with `SessionGoneError` instead of bringing it back (a sid
 * nobody has stored yet is inserted). `all()` is keyed by public session ids, since sids
 * are not stored.
 * @module
 */
import { EventEmitter } from "node:events";
import { createRequire } from "node:module";
import { SessionConfigError, SessionGoneError } from "../errors.js";
import { createSessions } from "../create-sessions.js";
import type { StoreDriver } from "../driver.js";
import type { Sessions } from "../manager/manager.js";
import type { TokenStore } from "../manager/token-store.js";

/**
 * express-session's session object, as stored: JSON with a `cookie`.
 *
 * @example
 * ```ts
 * const stored: StoredExpressSession = { cookie: { maxAge: 3_600_000 }, views: 3 };
 * ```
 */
export type StoredExpressSession = {
  /** express-session's cookie: its lifetime sets the session's (`maxAge`, else `expires`, else the store's `ttl`). */
  cookie?: {
    /** Milliseconds left until the cookie expires; null for a browser-session cookie. */
    maxAge?: number | null;
    /** The cookie's configured lifetime in ms (express-session's; the store does not read it). */
    originalMaxAge?: number | null;
    /** When the cookie expires (a Date, or its JSON string); null for a browser-session cookie. */
    expires?: string | Date | null;
  };
} & Record<string, unknown>;

/**
 * Node-style callback, as express-session passes them.
 *
 * @example
 * ```ts
 * store.length((err, count) => console.log(err ?? count));
 * ```
 */
export type StoreCallback<T = unknown> = (err?: unknown, value?: T) => void;

/**
 * A session where it crosses the Store's methods: express-session's `SessionData`, which
 * applications augment with their own keys. pgsession's types do not depend on
 * express-session's, so `any` stands for it there (where `@types/express-session` names
 * `SessionData`), and a PgSessionStore is a `Store` to those types. What the store keeps
 * and gives back is a {@link StoredExpressSession}.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type ExpressSessionData = any;

/**
 * Options of {@link PgSessionStore}: either `sessions` (share your pgsession instance), or
 * connect-pg-simple's own (`pool`, `conString`, `schemaName`, `tableName`, `ttl`,
 * `createTableIfMissing`, `pruneSessionInterval`).
 *
 * @example
 * ```ts
 * new PgSessionStore({ pool, ttl: 3600 });
 * new PgSessionStore({ sessions });
 * ```
 */
export interface PgSessionStoreOptions {
  /** A pgsession instance to store into (its schema, table, audience and timeouts). */
  sessions?: Sessions<object>;
  /** A node-postgres Pool (stays yours), when `sessions` is not given. */
  pool?: unknown;
  /** A connection string, when neither `sessions` nor `pool` is given. Default: `DATABASE_URL`. */
  conString?: string;
  /** Schema of the table. Default `"pgsession"`. */
  schemaName?: string;
  /** Table name. Default `"sessions"` (pgsession's table, not connect-pg-simple's). */
  tableName?: string;
  /** Idle lifetime in seconds of sessions whose cookie has no maxAge. Default: one day. */
  ttl?: number;
  /** Apply pgsession's migrations on first use. Default `true` unless `sessions` is given. */
  createTableIfMissing?: boolean;
  /** Prune expired sessions every this many seconds (unref'd timer), or `false`. Default 900. */
  pruneSessionInterval?: number | false;
}

const MAX_SID = 256;
const SID_SHAPE = /^[\x21-\x7e]+$/;
const LIST_LIMIT = 10_000;

/**
 * The methods express-session's `Store` adds to EventEmitter, which PgSessionStore
 * inherits, declared in the shape of `@types/express-session`'s.
 */
interface ExpressSessionStoreBase extends EventEmitter {
  /** Replaces the request's session with a new one (express-session's `req.session.regenerate`). */
  regenerate(req: object, callback: (err?: unknown) => unknown): void;
  /** Reads a session and builds express-session's Session object from it. */
  load(sid: string, callback: (err: unknown, session?: ExpressSessionData) => unknown): void;
  /** Builds express-session's Session object on the request. */
  createSession(req: object, session: ExpressSessionData): ExpressSessionData;
}

// express-session is loaded only when it is installed: its Store supplies regenerate,
// load and createSession. Without it the class still loads (and is of no use).
const Base = (() => {
  try {
    return createRequire(import.meta.url)("express-session").Store as typeof EventEmitter;
  } catch {
    return EventEmitter;
  }
})() as unknown as new () => ExpressSessionStoreBase;

function done<T>(promise: Promise<T>, callback: StoreCallback<T> | undefined): void {
  promise.then(
    (value) => callback?.(null, value),
    (err: unknown) => callback?.(err),
  );
}

/** The injected test clock, or null for the database clock. */
function validSid(sid: unknown): sid is string {
  return typeof sid === "string" && sid.length > 0 && sid.length <= MAX_SID && SID_SHAPE.test(sid);
}

/**
 * An express-session store on PostgreSQL that keeps only hashes of session ids.
 *
 * @example
 * ```ts
 * import session from "express-session";
 * import { PgSessionStore } from "pgsession/express-session";
 * app.use(session({ store: new PgSessionStore({ pool }), secret: process.env.SECRET!, resave: false, saveUninitialized: false }));
 * ```
 */
export class PgSessionStore extends Base {
  readonly #options: PgSessionStoreOptions;
  /** The session manager, made once. */
  #instance: Promise<Sessions<object>> | undefined;
  /** The manager once migrated and pruning; dropped when that failed, so the next use tries again. */
  #ready: Promise<Sessions<object>> | undefined;
  #stopPruning: (() => void) | undefined;
  #bySidStore: TokenStore | undefined;

  constructor(options: PgSessionStoreOptions = {}) {
    super();
    this.#options = options;
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
    if (every !== false && !this.#stopPruning) {
      this.#stopPruning = sessions.startPruning({ every: every * 1000, onError: (err) => this.emit("error", err) });
    }
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

  #ttlMs(session: StoredExpressSession, idleMs: number): number {
    const cookie = session.cookie;
    if (typeof cookie?.maxAge === "number" && cookie.maxAge > 0) return cookie.maxAge;
    if (cookie?.expires) {
      const left = new Date(cookie.expires).getTime() - Date.now();
      if (left > 0) return left;
    }
    return this.#options.ttl !== undefined ? this.#options.ttl * 1000 : Math.min(idleMs, 86_400_000);
  }

  /** The low-level store behind this one, addressed by express-session's sids. */
  async #bySid(): Promise<{ sessions: Sessions<object>; store: TokenStore }> {
    const sessions = await this.sessions();
    // The manager is made once (#instance), so is its view by sid: not one per request.
    return { sessions, store: (this.#bySidStore ??= sessions.store.withForeignKeys()) };
  }

  /** Reads a live session (extending its idle expiry when due). */
  get(sid: string, callback: StoreCallback<ExpressSessionData>): void {
    done(
      (async () => {
        if (!validSid(sid)) return null;
        const found = await (await this.#bySid()).store.touch(sid);
        return found ? (found.data as StoredExpressSession) : null;
      })(),
      callback,
    );
  }

  /** Stores the session: replaces the data of a live one, inserts one never stored. */
  set(sid: string, session: ExpressSessionData, callback?: StoreCallback<void>): void {
    done(
      (async () => {
        if (!validSid(sid)) throw new SessionGoneError("pgsession: not a valid session id; nothing was written");
        const { sessions, store } = await this.#bySid();
        await store.put(sid, session, { ttl: this.#ttlMs(session, sessions.options.standard.idleMs) });
      })(),
      callback,
    );
  }

  /** Extends the idle expiry (at most once per `touchAfter`). */
  touch(sid: string, _session: ExpressSessionData, callback?: StoreCallback<void>): void {
    done(
      (async () => {
        if (!validSid(sid)) return;
        await (await this.#bySid()).store.touch(sid);
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
        if (!validSid(sid)) return;
        await (await this.#bySid()).store.end(sid);
      })(),
      callback,
    );
  }

  /** Every live session (at most 10 000), keyed by public session id: sids are not stored. */
  all(callback: StoreCallback<Record<string, ExpressSessionData>>): void {
    done(
      (async () => {
        const rows = await (await this.#bySid()).store.list(LIST_LIMIT);
        return Object.fromEntries(rows.map((row) => [row.id, row.data as StoredExpressSession]));
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

  /** Stops pruning and, when the store created its pgsession instance, closes it. */
  async close(): Promise<void> {
    this.#stopPruning?.();
    // A manager whose start failed still holds a pool to end; one never made, nothing.
    const sessions = this.#instance && !this.#options.sessions ? await this.#instance.catch(() => null) : null;
    await sessions?.close();
  }
}
