/**
 * The types of {@link PgSessionStore}'s options and of the sessions it stores, as
 * express-session and @fastify/session hand them over.
 * @module
 */
import type { Sessions } from "../manager/manager.js";

/**
 * A session cookie's lifetime fields, as express-session and @fastify/session keep them
 * (live `Cookie` objects, or their JSON).
 *
 * @example
 * ```ts
 * const cookie: StoredCookie = { originalMaxAge: 3_600_000, expires: "2030-01-01T00:00:00.000Z" };
 * ```
 */
export interface StoredCookie {
  /** Milliseconds left (a live cookie's getter); first choice when it is a number. */
  maxAge?: number | null | undefined;
  /** The lifetime the cookie was given, in milliseconds (not read by the store). */
  originalMaxAge?: number | null | undefined;
  /** When the cookie expires (a Date, or its JSON string); null or absent: a browser-session cookie. */
  expires?: string | Date | null | undefined;
}

/**
 * express-session's session object, as stored: JSON with a `cookie`.
 *
 * @example
 * ```ts
 * const stored: StoredExpressSession = { cookie: { maxAge: 3_600_000 }, views: 3 };
 * ```
 */
export type StoredExpressSession = {
  /** express-session's cookie: its lifetime (`maxAge`, else `expires`, else the store's `ttl`) sets the session's. */
  cookie?: StoredCookie | undefined;
} & Record<string, unknown>;

/**
 * A session as a middleware hands it to the store to save: plain JSON, or express-session's
 * or @fastify/session's session object (a class instance, with its `cookie`).
 *
 * @example
 * ```ts
 * store.set(req.sessionID, req.session, callback); // a SessionToStore
 * ```
 */
export type SessionToStore =
  | StoredExpressSession
  | {
      /** express-session's cookie, whose lifetime the store follows; absent or null: the store's `ttl`. */
      readonly cookie?: StoredCookie | null | undefined;
    };

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
 * Options of {@link PgSessionStore}: either `sessions` (share your pgsession instance), or
 * connect-pg-simple's own (`pool`, `conString`, `schemaName`, `tableName`, `ttl`,
 * `createTableIfMissing`, `pruneSessionInterval`); and `session`, as connect-pg-simple takes it.
 *
 * @example
 * ```ts
 * new PgSessionStore({ pool, ttl: 3600 });
 * new PgSessionStore({ sessions, session }); // session: express-session's default export
 * ```
 */
export interface PgSessionStoreOptions {
  /**
   * The session middleware's default export (express-session's, or @fastify/session's),
   * whose `Store` this store builds on, as `connectPgSimple(session)` does. Default:
   * express-session, resolved as the application resolves it; without it, the store
   * refuses to be made (`SessionConfigError`) rather than fail at the first request.
   */
  session?: {
    /** express-session's (or @fastify/session's) base `Store` class. */
    readonly Store: unknown;
  };
  /** A pgsession instance to store into (its schema, table and audience). */
  sessions?: Sessions<object>;
  /** A node-postgres Pool (stays yours), when `sessions` is not given. */
  pool?: unknown;
  /** A connection string, when neither `sessions` nor `pool` is given. Default: `DATABASE_URL`. */
  conString?: string;
  /** Schema of the table. Default `"pgsession"`. */
  schemaName?: string;
  /** Table name. Default `"sessions"` (pgsession's table, not connect-pg-simple's). */
  tableName?: string;
  /**
   * Seconds a session lives after each save or touch when its cookie gives no lifetime
   * (no `maxAge` nor `expires`: a browser-session cookie). Default: one day, or the idle
   * timeout of `sessions` when that is shorter.
   */
  ttl?: number;
  /**
   * Seconds a session may live from its creation however active it stays. Default: no
   * limit, as in express-session, where only the cookie's lifetime counts.
   */
  absoluteTtl?: number;
  /** Apply pgsession's migrations on first use. Default `true` unless `sessions` is given. */
  createTableIfMissing?: boolean;
  /** Prune expired sessions every this many seconds (unref'd timer), or `false`. Default 900. */
  pruneSessionInterval?: number | false;
}
