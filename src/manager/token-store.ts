/**
 * The low-level store: sessions addressed by token, with no HTTP and no cookie, in the
 * shape of ocaml-session and the V `SessionStore` (`create`, `get`, `set`, `delete`,
 * `cleanup`, and a default period).
 * @module
 */
import { parseDuration, type Duration } from "../lib/duration.js";
import { SessionConflictError, SessionGoneError } from "../errors.js";
import type { ResolvedOptions } from "./options.js";
import { emptyData, toData, type SessionData } from "../session/session.js";
import { generatePublicId, generateToken, isWellFormedToken, tokenHashBytes } from "../session/token.js";
import type { SessionStore } from "../store/session-store.js";
import { cipherOf, type SessionCipher } from "../session/encryption.js";

/** What {@link TokenStore.get} returns. */
export interface StoredSession<Data extends object = SessionData> {
  /** The data, prototype-free. */
  data: Data;
  /** Milliseconds until the session expires. */
  expiresIn: number;
}

function serializeData(data: unknown): string {
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    throw new TypeError("pgsession: session data must be a plain object");
  }
  return JSON.stringify(data);
}

/**
 * Token-addressed sessions for code without HTTP (jobs, WebSockets, CLIs). Reached as
 * `sessions.store`. A session lives `ttl` (default: {@link TokenStore.defaultTtl}) from its
 * creation or its last `set` with a ttl; `get` does not extend it.
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
  readonly #db: SessionStore;
  readonly #options: ResolvedOptions;
  #defaultTtlMs: number;
  readonly #cipher: SessionCipher | null;

  /** @internal Reached through `sessions.store`. */
  constructor(db: SessionStore, options: ResolvedOptions) {
    this.#db = db;
    this.#options = options;
    this.#defaultTtlMs = options.standard.absoluteMs;
    this.#cipher = options.encrypt ? cipherOf(options.encrypt) : null;
  }

  /** The period a session lives when no ttl is given, in ms. Default: the absolute timeout (7 days). */
  get defaultTtl(): number {
    return this.#defaultTtlMs;
  }
  set defaultTtl(value: Duration) {
    this.#defaultTtlMs = parseDuration(value, "defaultTtl");
  }

  #now(): Date | null {
    return this.#options.now ? this.#options.now() : null;
  }

  /** Stores a new session and returns its token (the only copy: the database keeps a hash). */
  async create(options: { data?: SessionData; ttl?: Duration; userId?: string } = {}): Promise<string> {
    const ttlMs = options.ttl === undefined ? this.#defaultTtlMs : parseDuration(options.ttl, "ttl");
    const token = generateToken(this.#options.randomBytes);
    const now = this.#now();
    const id = generatePublicId(this.#options.randomBytes, now?.getTime());
    await this.#db.insert(now, {
      id, tokenHash: tokenHashBytes(token), userId: options.userId ?? null,
      audience: this.#options.audience, data: this.#seal(token, id, options.data ?? {}), remember: false, ip: null, userAgent: null,
      // A token-store session does not slide: get() never touches it.
      idleMs: ttlMs, touchAfterMs: ttlMs, absoluteMs: ttlMs,
    });
    return token;
  }

  /** The live session of `token`, or null (unknown, malformed, expired or deleted). */
  async get<Data extends object = SessionData>(token: string): Promise<StoredSession<Data> | null> {
    if (!isWellFormedToken(token)) return null;
    const record = await this.#db.peek(this.#now(), tokenHashBytes(token));
    if (!record) return null;
    if (!this.#cipher) return { data: toData(record.data) as Data, expiresIn: record.expiresInMs };
    const opened = this.#cipher.open(record.data, token, record.id, record.current);
    return opened ? { data: opened.data as Data, expiresIn: record.expiresInMs } : null;
  }

  /** The data column of a write: JSON, or with encryption a sealed blob under a new data key. */
  #seal(token: string, publicId: string, data: SessionData): string {
    const text = serializeData(data);
    if (!this.#cipher) return text;
    const dataKey = this.#cipher.newDataKey();
    const sealed = this.#cipher.sealData(dataKey, publicId, JSON.parse(text) as SessionData);
    return JSON.stringify({ $sealed: sealed, $key: this.#cipher.wrapKey(dataKey, token, publicId) });
  }

  /** Replaces the data of a live session, and its expiry when `ttl` is given. Throws {@link SessionGoneError} if it is not live. */
  async set(token: string, data: SessionData, options: { ttl?: Duration } = {}): Promise<void> {
    const ttlMs = options.ttl === undefined ? null : parseDuration(options.ttl, "ttl");
    let text = serializeData(data ?? emptyData());
    if (this.#cipher && isWellFormedToken(token)) {
      // Sealing binds the blob to the public id: one more read, on this rare path only.
      const record = await this.#db.peek(this.#now(), tokenHashBytes(token));
      if (!record) throw new SessionGoneError();
      // The data key would be wrapped under a token the session no longer answers to for long.
      if (!record.current) throw new SessionConflictError("cannot replace an encrypted session's data with a rotated-away token");
      text = this.#seal(token, record.id, data ?? emptyData());
    }
    if (!isWellFormedToken(token) || !(await this.#db.replace(this.#now(), tokenHashBytes(token), text, ttlMs))) {
      throw new SessionGoneError();
    }
  }

  /** Deletes the session; resolves to whether it existed. */
  async delete(token: string): Promise<boolean> {
    if (!isWellFormedToken(token)) return false;
    return (await this.#db.remove(this.#now(), tokenHashBytes(token))) !== null;
  }

  /** Deletes every expired session; resolves to the count. */
  async cleanup(): Promise<number> {
    return (await this.#db.prune(this.#now(), { batchSize: 1000, wait: true })).deleted;
  }
}
