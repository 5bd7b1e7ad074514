/**
 * Options of `createSessions`, their defaults, and their validation at start-up.
 * @module
 */
import { createCookiePolicy, type CookieOptions, type CookiePolicy } from "../session/cookie.js";
import { parseDuration, type Duration } from "../lib/duration.js";
import type { EncryptionOptions } from "../session/encryption.js";
import { SessionConfigError } from "../errors.js";
import { defaultTouchAfter, type TimeoutPolicy } from "../session/timeouts.js";
import { defaultRandomBytes, type RandomBytes } from "../session/token.js";
import { validateIdentifier } from "../lib/identifier.js";
import { checkTrustProxy } from "../session/request-context.js";
import type { TrustProxy } from "../session/request-context.js";
import type { StoreDriver } from "../driver.js";
import { AUTOMATIC_PRUNE_EVERY, backgroundPruneOf, type BackgroundPrune, type BackgroundPruneOptions } from "./prune.js";

/** Idle and absolute timeouts of one class of sessions. */
export interface TimeoutOptions {
  /** Sliding timeout: the session ends after this long without a request. */
  idleTimeout?: Duration;
  /** Hard limit counted from creation (or login); rotation does not reset it. */
  absoluteTimeout?: Duration;
}

/**
 * The read cache (`createSessions({ cache })`): sessions kept in this process, answered
 * without a query while a dedicated LISTEN connection proves that every change to the
 * table (by any instance, the CLI or SQL) is reported; flushed and bypassed whenever it
 * cannot. See the README's "Read cache".
 *
 * @example
 * ```ts
 * createSessions({ store: pgStore(pool), cache: { maxEntries: 100_000 } });
 * createSessions({ store: pgStore(pgbouncerPool), cache: { listen: process.env.DIRECT_DATABASE_URL } });
 * ```
 */
export interface CacheOptions {
  /** Most sessions kept; the least recently used go first. Default 10000. */
  maxEntries?: number;
  /**
   * Where to LISTEN: a connection string or a node-postgres `Client` config, for a
   * connection of its own that goes straight to PostgreSQL (a transaction-mode pooler
   * cannot LISTEN). Needs the `pg` package. Default: the config of the `pgStore()` pool;
   * required with any other store.
   */
  listen?: string | object;
  /**
   * How often the LISTEN connection is checked. Should it stop answering without closing
   * (a network that drops packets), the cache stops answering after twice this. Default `"1s"`.
   */
  heartbeat?: Duration;
}

/** The read cache's options after validation. */
export interface ResolvedCache {
  /** Most sessions kept. */
  readonly maxEntries: number;
  /** Where to LISTEN, as given; null for the store's own connection config. */
  readonly listen: string | object | null;
  /** Milliseconds between checks of the LISTEN connection. */
  readonly heartbeatMs: number;
}

/**
 * Options of {@link createSessions}. Every one is optional.
 *
 * @example
 * ```ts
 * createSessions({ store: pgStore(pool), idleTimeout: "1h", cookie: { name: "__Host-sid" } });
 * ```
 */
export interface SessionsOptions {
  /** The database. Default: an in-memory PGlite database (for demos and tests). */
  store?: StoreDriver;
  /** Schema of the sessions table. Default `"pgsession"`. */
  schema?: string;
  /** Name of the sessions table. Default `"sessions"`. */
  table?: string;
  /** Create the table UNLOGGED: faster writes, emptied after a server crash. Default `false`. */
  unlogged?: boolean;
  /** Cookie attributes. */
  cookie?: CookieOptions;
  /** Idle timeout of ordinary sessions. Default `"24h"`. */
  idleTimeout?: Duration;
  /** Absolute lifetime of ordinary sessions. Default `"7d"`. */
  absoluteTimeout?: Duration;
  /** Timeouts of "remember me" sessions. Default idle `"30d"`, absolute `"90d"`. */
  remember?: TimeoutOptions;
  /** Extend the idle expiry at most this often. Default: a tenth of the idle timeout. */
  touchAfter?: Duration;
  /** How long a rotated-away token keeps working, for requests already in flight. Default `"10s"`. */
  staleTtl?: Duration;
  /**
   * Rolling renewal: a request whose session token is older than this gets a new token
   * when it commits (the old one works for `staleTtl` more), so that a long-lived session
   * does not keep one token for months. Longer than `staleTtl`. Default: off.
   */
  rotateAfter?: Duration;
  /** Store new sessions even when they hold no data and no user. Default `false`. */
  saveUninitialized?: boolean;
  /**
   * Behind reverse proxies: how many to believe (`true`: one) for `X-Forwarded-Proto` (for
   * `cookie.secure: "auto"`) and `X-Forwarded-For` (the recorded ip), taking the entries
   * those proxies added (right-most first), never the client's own. Adapters read it; an
   * adapter's own `trustProxy` wins. Unset, the Express, Fastify and Koa adapters follow the
   * framework's setting (`req.secure`/`req.ip`, Fastify's `trustProxy`, Koa's `app.proxy`)
   * and the others trust no proxy.
   */
  trustProxy?: TrustProxy;
  /**
   * Send `Cache-Control: no-store` with every response that sets the session cookie, unless
   * the app already set a Cache-Control with `no-store` or `private` (the OWASP session
   * rule: a shared cache must never store or replay a session's cookie). Adapters apply it.
   * Default `true`.
   */
  noStore?: boolean;
  /** Largest serialized session data, in bytes. Default 65536. */
  maxDataSize?: number;
  /**
   * Audience (application or tenant) of the sessions this instance creates, and the only
   * one its reads see: a token of another audience resolves like an unknown one (a new
   * session), and `sessions.store` neither reads nor writes it. Without this option an
   * instance sees only sessions without an audience. Listing and revoking a user's
   * sessions default to it too, but `audience: null` there means every audience. Default none.
   */
  audience?: string;
  /** Clock, for tests. Default: the database clock (`now()`), never the Node clock. */
  now?: () => Date;
  /** Random source, for tests. Default: the OS CSPRNG. */
  randomBytes?: RandomBytes;
  /** Encrypt session data at rest (AES-256-GCM, keyed from the token and these server keys). Default off. */
  encrypt?: EncryptionOptions;
  /** On login, revoke the user's oldest sessions (in this audience) beyond this many. Default: no limit. */
  maxSessionsPerUser?: number;
  /**
   * The automatic prune of expired sessions: on an unref'd timer, every 15 minutes ± 20 %,
   * one instance at a time (an advisory lock and a lease), in batches that leave room for requests.
   * Options as `startPruning`'s; `false` turns it off (prune with `startPruning`, `prune()`
   * or `pgsession prune` instead). Default `{ every: "15m" }`.
   */
  prune?: false | BackgroundPruneOptions;
  /**
   * Keep resolved sessions in this process and answer reads without a query, kept true by the
   * triggers that report every change (which `migrate()` then installs). Default off.
   */
  cache?: CacheOptions;
}

/** Options after validation and defaults. */
export interface ResolvedOptions {
  /** Schema of the sessions table, validated. */
  readonly schema: string;
  /** Name of the sessions table, validated. */
  readonly table: string;
  /** Whether `migrate()` creates the table UNLOGGED. */
  readonly unlogged: boolean;
  /** The cookie attributes, validated, with their defaults. */
  readonly cookie: CookiePolicy;
  /** Timeouts of ordinary sessions, in ms. */
  readonly standard: TimeoutPolicy;
  /** Timeouts of "remember me" sessions, in ms. */
  readonly remember: TimeoutPolicy;
  /** How long a rotated-away token keeps working, in ms (`staleTtl`); 0 for not at all. */
  readonly staleMs: number;
  /** Rolling renewal: the token age, in ms, past which a request's commit rotates it; null when off. */
  readonly rotateAfterMs: number | null;
  /** Whether sessions with no data and no user are stored too. */
  readonly saveUninitialized: boolean;
  /** As given; null when not set (see {@link SessionsOptions.trustProxy}). */
  readonly trustProxy: TrustProxy | null;
  /** Whether adapters send `Cache-Control: no-store` with the session cookie. */
  readonly noStore: boolean;
  /** Largest serialized session data, in bytes. */
  readonly maxDataSize: number;
  /** Audience of the sessions this instance creates, or null for none. */
  readonly audience: string | null;
  /** The injected clock, or null when the database clock is used. */
  readonly now: (() => Date) | null;
  /** The random source: the injected one, or the OS CSPRNG. */
  readonly randomBytes: RandomBytes;
  /** The encryption keys, or null when data is stored in plain JSON. */
  readonly encrypt: EncryptionOptions | null;
  /** Most sessions a user keeps in this audience (a login revokes the oldest beyond it), or null for no limit. */
  readonly maxSessionsPerUser: number | null;
  /** The automatic prune, or null when `prune: false`. */
  readonly prune: BackgroundPrune | null;
  /** The read cache, or null when it is off. */
  readonly cache: ResolvedCache | null;
}

const KNOWN = new Set([
  "store",
  "schema",
  "table",
  "unlogged",
  "cookie",
  "idleTimeout",
  "absoluteTimeout",
  "remember",
  "touchAfter",
  "staleTtl",
  "rotateAfter",
  "saveUninitialized",
  "trustProxy",
  "noStore",
  "maxDataSize",
  "audience",
  "now",
  "randomBytes",
  "encrypt",
  "maxSessionsPerUser",
  "prune",
  "cache",
]);

function timeouts(idle: Duration, absolute: Duration, touchAfter: Duration | undefined, prefix: string): TimeoutPolicy {
  const idleMs = parseDuration(idle, `${prefix}idleTimeout`);
  const absoluteMs = parseDuration(absolute, `${prefix}absoluteTimeout`);
  if (absoluteMs < idleMs) {
    throw new SessionConfigError(`${prefix}absoluteTimeout`, `must not be shorter than ${prefix}idleTimeout`);
  }
  const touchAfterMs = touchAfter === undefined ? defaultTouchAfter(idleMs) : parseDuration(touchAfter, "touchAfter", { allowZero: true });
  if (touchAfterMs >= idleMs) throw new SessionConfigError("touchAfter", `must be shorter than ${prefix}idleTimeout`);
  return { idleMs, absoluteMs, touchAfterMs };
}

const CACHE_KEYS = new Set(["maxEntries", "listen", "heartbeat"]);

function cacheOptions(cache: CacheOptions | undefined): ResolvedCache | null {
  if (cache === undefined) return null;
  if (cache === null || typeof cache !== "object") throw new SessionConfigError("cache", "expected { maxEntries, listen, heartbeat }");
  for (const key of Object.keys(cache)) {
    if (!CACHE_KEYS.has(key)) throw new SessionConfigError(`cache.${key}`, "is not an option of the read cache");
  }
  const maxEntries = cache.maxEntries ?? 10_000;
  if (!Number.isInteger(maxEntries) || maxEntries < 1 || maxEntries > 10_000_000) {
    throw new SessionConfigError("cache.maxEntries", "must be a whole number from 1 to 10000000");
  }
  const listen = cache.listen ?? null;
  if (listen !== null && !(typeof listen === "string" ? listen.length > 0 : typeof listen === "object")) {
    throw new SessionConfigError("cache.listen", "must be a connection string or a node-postgres Client config");
  }
  const heartbeatMs = parseDuration(cache.heartbeat ?? "1s", "cache.heartbeat");
  if (heartbeatMs < 50 || heartbeatMs > 60_000) throw new SessionConfigError("cache.heartbeat", "must be from 50 ms to 1 minute");
  return { maxEntries, listen, heartbeatMs };
}

/**
 * Validates options and fills in defaults; throws {@link SessionConfigError} naming the option.
 *
 * @example
 * ```ts
 * resolveOptions({ idleTimeout: "1h" }).standard.idleMs; // 3_600_000
 * ```
 */
export function resolveOptions(options: SessionsOptions): ResolvedOptions {
  if (options === null || typeof options !== "object") throw new SessionConfigError("options", "expected an object");
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw new SessionConfigError(key, "is not an option of createSessions");
  }
  const remember = options.remember ?? {};
  if (typeof remember !== "object" || remember === null)
    throw new SessionConfigError("remember", "expected { idleTimeout, absoluteTimeout }");
  const maxDataSize = options.maxDataSize ?? 64 * 1024;
  if (!Number.isInteger(maxDataSize) || maxDataSize < 2 || maxDataSize > 64 * 1024 * 1024) {
    throw new SessionConfigError("maxDataSize", "must be a whole number of bytes between 2 and 67108864");
  }
  const audience = options.audience ?? null;
  if (audience !== null && (typeof audience !== "string" || audience.length === 0 || audience.length > 200)) {
    throw new SessionConfigError("audience", "must be a non-empty string of at most 200 characters");
  }
  for (const flag of ["unlogged", "saveUninitialized", "noStore"] as const) {
    if (options[flag] !== undefined && typeof options[flag] !== "boolean") throw new SessionConfigError(flag, "must be true or false");
  }
  for (const fn of ["now", "randomBytes"] as const) {
    if (options[fn] !== undefined && typeof options[fn] !== "function") throw new SessionConfigError(fn, "must be a function");
  }
  if (options.store !== undefined && (typeof options.store?.query !== "function" || typeof options.store?.transaction !== "function")) {
    throw new SessionConfigError("store", "must be a driver from pgStore(), postgresStore() or pgliteStore()");
  }
  const staleMs = parseDuration(options.staleTtl ?? "10s", "staleTtl", { allowZero: true });
  const rotateAfterMs = options.rotateAfter === undefined ? null : parseDuration(options.rotateAfter, "rotateAfter");
  // A rotation within the grace window of the last one would end that window early: the
  // token before it, which requests may still carry, would stop working.
  if (rotateAfterMs !== null && rotateAfterMs <= staleMs) throw new SessionConfigError("rotateAfter", "must be longer than staleTtl");
  const maxSessionsPerUser = options.maxSessionsPerUser ?? null;
  if (maxSessionsPerUser !== null && (!Number.isInteger(maxSessionsPerUser) || maxSessionsPerUser < 1 || maxSessionsPerUser > 100_000)) {
    throw new SessionConfigError("maxSessionsPerUser", "must be a whole number from 1 to 100000");
  }
  return {
    schema: validateIdentifier(options.schema ?? "pgsession", "schema"),
    table: validateIdentifier(options.table ?? "sessions", "table"),
    unlogged: options.unlogged ?? false,
    cookie: createCookiePolicy(options.cookie),
    standard: timeouts(options.idleTimeout ?? "24h", options.absoluteTimeout ?? "7d", options.touchAfter, ""),
    remember: timeouts(remember.idleTimeout ?? "30d", remember.absoluteTimeout ?? "90d", options.touchAfter, "remember."),
    staleMs,
    rotateAfterMs,
    saveUninitialized: options.saveUninitialized ?? false,
    trustProxy: options.trustProxy === undefined ? null : checkTrustProxy(options.trustProxy, "trustProxy"),
    noStore: options.noStore ?? true,
    maxDataSize,
    audience,
    now: options.now ?? null,
    randomBytes: options.randomBytes ?? defaultRandomBytes,
    encrypt: options.encrypt ?? null,
    maxSessionsPerUser,
    prune: options.prune === false ? null : backgroundPruneOf(options.prune ?? {}, "prune", AUTOMATIC_PRUNE_EVERY),
    cache: cacheOptions(options.cache),
  };
}
