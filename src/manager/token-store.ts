/**
 * The low-level store: sessions addressed by token, with no HTTP and no cookie, in the
 * shape of ocaml-session and the V `SessionStore` (`create`, `get`, `set`, `delete`,
 * `cleanup`, and a default period).
 * @module
 */
import { SessionConflictError, SessionGoneError, SessionStoreError } from "../errors.js";
import { parseDuration, type Duration } from "../lib/duration.js";
import { emptyData, type SessionData } from "../session/session.js";
import { cookieLifetime, fixedLifetime, type TimeoutPolicy } from "../session/timeouts.js";
import { generatePublicId, isWellFormedToken, tokenHashBytes } from "../session/token.js";
import { clockOf, newToken, type ManagerContext } from "./context.js";
import { checkDataSize } from "./write.js";

/** What {@link TokenStore.get} returns. */
export interface StoredSession<Data extends object = SessionData> {
  /** The data, prototype-free. */
  data: Data;
  /** Milliseconds until the session expires. */
  expiresIn: number;
}

function checkData(data: unknown): SessionData {
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    throw new TypeError("pgsession: session data must be a plain object");
  }
  return JSON.parse(JSON.stringify(data)) as SessionData;
}

/** Whether a key names a session this store may look up. */
type KeyCheck = (key: unknown) => key is string;

const MAX_FOREIGN_KEY = 256;
const FOREIGN_KEY_SHAPE = /^[\x21-\x7e]+$/;

/** A session id chosen by another library: 1 to 256 printable ASCII characters. */
export function isForeignKey(key: unknown): key is string {
  return typeof key === "string" && key.length > 0 && key.length <= MAX_FOREIGN_KEY && FOREIGN_KEY_SHAPE.test(key);
}

/**
 * Token-addressed sessions for code without HTTP (jobs, WebSockets, CLIs). Reached as
 * `sessions.store`. A session lives `ttl` (default: {@link TokenStore.defaultTtl}) from its
 * creation or its last `set` with a ttl; `get` does not extend it. Tokens of sessions of
 * another audience than the instance's answer like unknown ones, to reads and writes alike.
 *
 * @example
 * ```ts
 * const token = await sessions.store.create({ data: { cart: [] }, ttl: "1h" });
 * const found = await sessions.store.get(token); // { data: { cart: [] }, expiresIn: 3600000 }
 * await sessions.store.set(token, { cart: ["book"] });
 * await sessions.store.delete(token);
 * ```
 */
export class TokenStore {
  readonly #ctx: ManagerContext;
  readonly #accepts: KeyCheck;
  #defaultTtlMs: number;

  /** @internal Reached through `sessions.store`. */
  constructor(ctx: ManagerContext, accepts: KeyCheck = isWellFormedToken) {
    this.#ctx = ctx;
    this.#accepts = accepts;
    this.#defaultTtlMs = ctx.options.standard.absoluteMs;
  }

  /**
   * The same store, addressed by session ids that another library generates (1 to 256
   * printable ASCII characters, such as express-session's sids) instead of pgsession's own
   * tokens. Only for ids that are themselves unguessable: the database keeps their hash.
   *
   * @example
   * ```ts
   * const bySid = sessions.store.withForeignKeys();
   * await bySid.put(req.sessionID, { cart: [] }, { ttl: "1d" });
   * ```
   */
  withForeignKeys(): TokenStore {
    return new TokenStore(this.#ctx, isForeignKey);
  }

  /** The period a session lives when no ttl is given, in ms. Default: the absolute timeout (7 days). */
  get defaultTtl(): number {
    return this.#defaultTtlMs;
  }
  /** Sets that period: milliseconds, or a duration string such as `"1h"`. */
  set defaultTtl(value: Duration) {
    this.#defaultTtlMs = parseDuration(value, "defaultTtl");
  }

  /**
   * Stores a new session and returns its token (the only copy: the database keeps a hash).
   * Data past `maxDataSize` throws `SessionDataTooLargeError`.
   */
  async create(options: { data?: SessionData; ttl?: Duration; userId?: string } = {}): Promise<string> {
    const lifetime = fixedLifetime(options.ttl === undefined ? this.#defaultTtlMs : parseDuration(options.ttl, "ttl"));
    const { token } = newToken(this.#ctx);
    await this.#insert(token, options.data ?? {}, lifetime, options.userId ?? null);
    return token;
  }

  async #insert(token: string, data: SessionData, lifetime: TimeoutPolicy, userId: string | null = null): Promise<void> {
    const ctx = this.#ctx;
    const checked = checkData(data);
    checkDataSize(ctx, checked);
    const id = generatePublicId(ctx.options.randomBytes, clockOf(ctx).getTime());
    const { column } = ctx.codec.seal(checked, { token, publicId: id });
    await ctx.table.insert({
      id,
      tokenHash: tokenHashBytes(token),
      userId,
      audience: ctx.options.audience,
      data: column,
      remember: false,
      ip: null,
      userAgent: null,
      idleMs: lifetime.idleMs,
      touchAfterMs: lifetime.touchAfterMs,
      absoluteMs: lifetime.absoluteMs,
    });
  }

  /** The live session of `token`, or null (unknown, malformed, expired, deleted, or of another audience). */
  async get<Data extends object = SessionData>(token: string): Promise<StoredSession<Data> | null> {
    if (!this.#accepts(token)) return null;
    const record = await this.#ctx.table.peek(tokenHashBytes(token));
    if (!record) return null;
    const opened = this.#ctx.codec.open(record.data, { token, publicId: record.id }, record.current);
    return opened ? { data: opened.data as Data, expiresIn: record.expiresInMs } : null;
  }

  /**
   * Like {@link get}, and extends the session's idle expiry when a touch is due (at most
   * once per its `touchAfter`). Null also for a token a login replaced.
   *
   * @example
   * ```ts
   * const found = await sessions.store.touch(token); // { data, expiresIn } | null
   * ```
   */
  async touch<Data extends object = SessionData>(token: string): Promise<StoredSession<Data> | null> {
    if (!this.#accepts(token)) return null;
    const ctx = this.#ctx;
    const record = await ctx.table.find(tokenHashBytes(token));
    if (record === null || record === "superseded") return null;
    const opened = ctx.codec.open(record.data, { token, publicId: record.id }, record.current);
    const now = clockOf(ctx);
    return opened ? { data: opened.data as Data, expiresIn: Math.max(0, record.expiresAt.getTime() - now.getTime()) } : null;
  }

  /**
   * Stores `data` under `token` for `ttl` from now: replaces a live session's data and sets
   * its expiry, or creates the session when the token was never stored. The session slides
   * by `ttl` (see {@link renew}) with no absolute limit unless `absoluteTimeout` is given, as
   * a cookie's lifetime governs express-session's sessions. A token whose session ended is
   * not brought back: {@link SessionGoneError}.
   *
   * @example
   * ```ts
   * await sessions.store.withForeignKeys().put(sid, { views: 1 }, { ttl: "1d" });
   * ```
   */
  async put(token: string, data: SessionData, options: { ttl: Duration; absoluteTimeout?: Duration }): Promise<void> {
    const lifetime = cookieLifetime(
      parseDuration(options.ttl, "ttl"),
      options.absoluteTimeout === undefined ? undefined : parseDuration(options.absoluteTimeout, "absoluteTimeout"),
    );
    if (await this.#replaceSliding(token, data, lifetime)) return;
    try {
      await this.#insert(token, data, lifetime);
    } catch (err) {
      // 23505: a row for this token exists. Live, a put running in parallel created it: replace
      // its data as any later put would. Otherwise the session ended and is not brought back.
      if (!(err instanceof SessionStoreError && err.sqlState === "23505")) throw err;
      if (!(await this.#replaceSliding(token, data, lifetime))) throw new SessionGoneError();
    }
  }

  /**
   * Sets a live session's expiry `ttl` from now (within its absolute lifetime), as a cookie's
   * renewed lifetime asks: written only when that moves the expiry by at least the session's
   * `touchAfter` (a tenth of its ttl), earlier or later, so a renew on every request costs a
   * write once per `touchAfter`. Whether it wrote; false also for a session that is not live.
   *
   * @example
   * ```ts
   * await sessions.store.withForeignKeys().renew(sid, { ttl: "30d" });
   * ```
   */
  async renew(token: string, options: { ttl: Duration }): Promise<boolean> {
    const lifetime = cookieLifetime(parseDuration(options.ttl, "ttl"));
    if (!this.#accepts(token)) return false;
    return this.#ctx.table.renew(tokenHashBytes(token), lifetime.idleMs, lifetime.touchAfterMs);
  }

  async #replaceSliding(token: string, data: SessionData, lifetime: TimeoutPolicy): Promise<boolean> {
    const checked = checkData(data ?? emptyData());
    checkDataSize(this.#ctx, checked);
    if (!this.#accepts(token)) throw new SessionGoneError();
    const tokenHash = tokenHashBytes(token);
    const column = await this.#column(token, tokenHash, checked);
    return this.#ctx.table.replaceSliding(tokenHash, column, lifetime.idleMs, lifetime.touchAfterMs);
  }

  /**
   * Ends the session but keeps its row, emptied and expired, until the next prune, so that
   * a late {@link put} with its token is refused instead of starting it again. Whether it was live.
   *
   * @example
   * ```ts
   * await sessions.store.end(token);
   * ```
   */
  async end(token: string): Promise<boolean> {
    if (!this.#accepts(token)) return false;
    return this.#ctx.table.tombstone(tokenHashBytes(token));
  }

  /**
   * Live sessions of this instance's audience (every one without an audience), by public
   * id, at most `limit`.
   *
   * @example
   * ```ts
   * const live = await sessions.store.list(100); // [{ id, data, expiresAt }]
   * ```
   */
  list(limit: number): Promise<
    Array<{
      /** Public id (not the token). */
      id: string;
      /** The data column as stored: an encrypted session's is its sealed envelope. */
      data: Record<string, unknown>;
      /** When it ends unless used again (its idle expiry). */
      expiresAt: Date;
    }>
  > {
    return this.#ctx.table.listLive(this.#ctx.options.audience, limit);
  }

  /**
   * How many sessions are live (in this instance's audience, when it has one).
   *
   * @example
   * ```ts
   * await sessions.store.count(); // 42
   * ```
   */
  count(): Promise<number> {
    return this.#ctx.table.countLive(this.#ctx.options.audience);
  }

  /**
   * Deletes every session (of this instance's audience, when it has one); the count.
   *
   * @example
   * ```ts
   * await sessions.store.clear();
   * ```
   */
  clear(): Promise<number> {
    return this.#ctx.table.removeAll(this.#ctx.options.audience);
  }

  /**
   * Replaces the data of a live session, and its expiry when `ttl` is given. Throws
   * {@link SessionGoneError} if it is not live, `SessionDataTooLargeError` for data
   * past `maxDataSize`.
   */
  async set(token: string, data: SessionData, options: { ttl?: Duration } = {}): Promise<void> {
    const ctx = this.#ctx;
    const ttlMs = options.ttl === undefined ? null : parseDuration(options.ttl, "ttl");
    const checked = checkData(data ?? emptyData());
    // The whole data is replaced, not merged: checked here, no parallel write can add to it.
    checkDataSize(ctx, checked);
    if (!this.#accepts(token)) throw new SessionGoneError();
    const tokenHash = tokenHashBytes(token);
    const column = await this.#column(token, tokenHash, checked);
    if (!(await ctx.table.replace(tokenHash, column, ttlMs))) throw new SessionGoneError();
  }

  /** The data column of a live session replaced by `data`: its JSON, or sealed when the store encrypts. */
  async #column(token: string, tokenHash: Uint8Array, data: SessionData): Promise<string> {
    const ctx = this.#ctx;
    if (!ctx.codec.sealed) return JSON.stringify(data);
    // Sealing binds the blob to the public id: one more read, on this rare path only.
    const record = await ctx.table.peek(tokenHash);
    if (!record) throw new SessionGoneError();
    // The data key would be wrapped under a token the session no longer answers to for long.
    if (!record.current) throw new SessionConflictError("cannot replace an encrypted session's data with a rotated-away token");
    return ctx.codec.seal(data, { token, publicId: record.id }).column;
  }

  /** Deletes the session; resolves to whether it existed. */
  async delete(token: string): Promise<boolean> {
    if (!this.#accepts(token)) return false;
    return (await this.#ctx.table.remove(tokenHashBytes(token))) !== null;
  }

  /** Deletes every expired session; resolves to the count. */
  async cleanup(): Promise<number> {
    return (await this.#ctx.table.prune({ batchSize: 1000, wait: true })).deleted;
  }
}
