/**
 * What the read cache needs of the database: a feed of the changes of the sessions table,
 * with the health of its subscription. The PostgreSQL implementation (LISTEN on a
 * dedicated connection, the table's triggers NOTIFYing) lives in `src/store/`; nothing here
 * knows SQL or a driver.
 * @module
 */

/**
 * One change of a session row, as the table's trigger reported it.
 *
 * @example
 * ```ts
 * const change: SessionChange = { key: "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=", version: 7 };
 * ```
 */
export interface SessionChange {
  /** The SHA-256 token hash the row had before the change, in base64: the key of a cached entry. */
  readonly key: string;
  /**
   * The version the change wrote, when it kept the token and raised the version by exactly
   * one (every pgsession write does): an entry already holding that version is current.
   * Null for any other change (a delete, a new token, SQL that leaves the version alone).
   */
  readonly version: number | null;
}

/**
 * What a {@link ChangeFeed} tells the cache. Every call is made from the event loop, in
 * the order the database sent what it reports.
 *
 * @example
 * ```ts
 * const listener: ChangeListener = { alive: () => {}, lost: () => {}, changed: ({ key }) => cache.delete(key), flushed: () => cache.clear() };
 * ```
 */
export interface ChangeListener {
  /**
   * The subscription is verified: every change committed before `verifiedAt` (local clock,
   * ms) has been reported, and every later one will be while the subscription lasts. The
   * feed vouches for it until `until` (local ms): after that, without a newer call, the
   * cache must not answer. `clockOffsetMs` is the database's clock minus the local one.
   */
  alive(status: { verifiedAt: number; until: number; clockOffsetMs: number }): void;
  /** The subscription is lost or cannot be trusted (connection down, trigger missing): changes may be missed until the next `alive`. */
  lost(reason: string): void;
  /** A session changed. */
  changed(change: SessionChange): void;
  /** Every session may have changed (a TRUNCATE). */
  flushed(): void;
}

/**
 * A subscription to the changes of one sessions table.
 *
 * @example
 * ```ts
 * feed.start(listener); // reports until close()
 * await feed.close();
 * ```
 */
export interface ChangeFeed {
  /** Starts listening (connecting, and reconnecting on its own) and reporting to `listener` until {@link close}. */
  start(listener: ChangeListener): void;
  /** Stops listening and closes the connection. */
  close(): Promise<void>;
}
