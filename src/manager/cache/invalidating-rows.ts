/**
 * Row writes that drop the cache entries they change: at once on the table itself, or when
 * its transaction ends (an entry must keep the committed row until the transaction commits,
 * and never outlive it). The table's triggers report the same changes to every instance;
 * dropping them here as well makes this instance's own writes visible to its next request
 * without waiting for the notification.
 * @module
 */
import type {
  DataChanges,
  EndedSession,
  FindResult,
  LoginChange,
  MissReason,
  NewSessionRow,
  SessionRecord,
  SessionRows,
  SessionSummary,
} from "../../session/table.js";
import type { ReadCache } from "./read-cache.js";

/**
 * The cache key of a token hash: its base64, as the table's trigger writes it.
 *
 * @example
 * ```ts
 * keyOf(tokenHashBytes(token)); // "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="
 * ```
 */
export function keyOf(tokenHash: Uint8Array): string {
  return (Buffer.isBuffer(tokenHash) ? tokenHash : Buffer.from(tokenHash.buffer, tokenHash.byteOffset, tokenHash.byteLength)).toString(
    "base64",
  );
}

/** What a transaction's writes changed, dropped from the cache when it ends. */
interface Deferred {
  keys: Set<string>;
  ids: Set<string>;
  all: boolean;
}

/**
 * {@link SessionRows} over other rows, dropping from `cache` what each write changes: at
 * once, or, with `deferred`, when {@link invalidate} is called.
 *
 * @example
 * ```ts
 * const rows = new InvalidatingRows(tx.rows, cache, true);
 * try { await rows.remove(hash); } finally { rows.invalidate(); }
 * ```
 */
export class InvalidatingRows implements SessionRows {
  readonly #rows: SessionRows;
  readonly #cache: ReadCache;
  readonly #deferred: Deferred | null;

  constructor(rows: SessionRows, cache: ReadCache, deferred = false) {
    this.#rows = rows;
    this.#cache = cache;
    this.#deferred = deferred ? { keys: new Set(), ids: new Set(), all: false } : null;
  }

  #forget(key: string): void {
    if (this.#deferred) this.#deferred.keys.add(key);
    else this.#cache.delete(key);
  }

  /** Drops the entries of the sessions with these public ids (now, or when deferred, at {@link invalidate}). */
  forgetIds(ids: Iterable<string>): void {
    for (const id of ids) {
      if (this.#deferred) this.#deferred.ids.add(id);
      else this.#cache.deleteById(id);
    }
  }

  /** Drops what the deferred writes changed. */
  invalidate(): void {
    const deferred = this.#deferred;
    if (!deferred) return;
    if (deferred.all) this.#cache.clear();
    for (const key of deferred.keys) this.#cache.delete(key);
    for (const id of deferred.ids) this.#cache.deleteById(id);
  }

  find(tokenHash: Uint8Array): Promise<FindResult> {
    return this.#rows.find(tokenHash);
  }

  peek(tokenHash: Uint8Array): Promise<(SessionRecord & { expiresInMs: number }) | null> {
    return this.#rows.peek(tokenHash);
  }

  insert(row: NewSessionRow): Promise<SessionRecord> {
    return this.#rows.insert(row);
  }

  async save(id: string | null, tokenHash: Uint8Array, changes: DataChanges, expectedVersion: number | null): Promise<number | MissReason> {
    try {
      return await this.#rows.save(id, tokenHash, changes, expectedVersion);
    } finally {
      this.#forget(keyOf(tokenHash));
      if (id !== null) this.forgetIds([id]);
    }
  }

  async rotate(
    tokenHash: Uint8Array,
    newTokenHash: Uint8Array,
    staleMs: number,
    changes?: DataChanges,
    login?: LoginChange | null,
  ): Promise<SessionRecord | MissReason> {
    try {
      return await this.#rows.rotate(tokenHash, newTokenHash, staleMs, changes, login);
    } finally {
      this.#forget(keyOf(tokenHash));
    }
  }

  async replace(tokenHash: Uint8Array, data: string, ttlMs: number | null): Promise<boolean> {
    try {
      return await this.#rows.replace(tokenHash, data, ttlMs);
    } finally {
      this.#forget(keyOf(tokenHash));
    }
  }

  async replaceSliding(tokenHash: Uint8Array, data: string, idleMs: number, touchAfterMs: number): Promise<boolean> {
    try {
      return await this.#rows.replaceSliding(tokenHash, data, idleMs, touchAfterMs);
    } finally {
      this.#forget(keyOf(tokenHash));
    }
  }

  async renew(tokenHash: Uint8Array, idleMs: number, touchAfterMs: number): Promise<boolean> {
    try {
      return await this.#rows.renew(tokenHash, idleMs, touchAfterMs);
    } finally {
      this.#forget(keyOf(tokenHash));
    }
  }

  async remove(tokenHash: Uint8Array): Promise<EndedSession | null> {
    try {
      const ended = await this.#rows.remove(tokenHash);
      if (ended) this.forgetIds([ended.id]);
      return ended;
    } finally {
      this.#forget(keyOf(tokenHash));
    }
  }

  async tombstone(tokenHash: Uint8Array): Promise<boolean> {
    try {
      return await this.#rows.tombstone(tokenHash);
    } finally {
      this.#forget(keyOf(tokenHash));
    }
  }

  listByUser(userId: string, audience: string | null): Promise<SessionSummary[]> {
    return this.#rows.listByUser(userId, audience);
  }

  async revokeById(id: string): Promise<EndedSession | null> {
    try {
      return await this.#rows.revokeById(id);
    } finally {
      this.forgetIds([id]);
    }
  }

  async revokeByUser(
    userId: string,
    options: { audience: string | null; exceptId: string | null; issuedBefore: Date | null },
  ): Promise<EndedSession[]> {
    const ended = await this.#rows.revokeByUser(userId, options);
    this.forgetIds(ended.map((session) => session.id));
    return ended;
  }

  listLive(audience: string | null, limit: number): Promise<Array<{ id: string; data: Record<string, unknown>; expiresAt: Date }>> {
    return this.#rows.listLive(audience, limit);
  }

  countLive(audience: string | null): Promise<number> {
    return this.#rows.countLive(audience);
  }

  async removeAll(audience: string | null): Promise<number> {
    try {
      return await this.#rows.removeAll(audience);
    } finally {
      if (this.#deferred) this.#deferred.all = true;
      else this.#cache.clear();
    }
  }
}
