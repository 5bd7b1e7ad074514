/**
 * The sessions table as the domain needs it: every read and write the session manager
 * makes, bound to one table, one clock and one audience. The PostgreSQL implementation lives in
 * `src/store/` (`openSessionTable`); nothing here knows SQL or a driver.
 * @module
 */

import type {
  CacheableFind,
  DataChanges,
  EndedSession,
  FindResult,
  LoginChange,
  MigrationStatus,
  MissReason,
  NewSessionRow,
  PruneResult,
  PruneRun,
  SessionRecord,
  SessionSql,
  SessionStats,
  SessionSummary,
  TableCounts,
  TableName,
  TransactionSession,
} from "./records.js";

export type * from "./records.js";

/**
 * The row-level reads and writes of sessions, on the table itself or inside one of its
 * transactions. Those that reach a session by its token alone (`find`, `peek`, `replace`,
 * `remove`, `tombstone`) see only the sessions of the table's audience, exactly: a table
 * without one sees only sessions without one. A token issued for one audience so names
 * nothing under another, and the writes that follow such a read need no check of their own.
 */
export interface SessionRows {
  /**
   * Reads a live session by token hash, extending its idle expiry if a touch is due. With
   * `fresh`, from the database even where a read cache holds the session.
   */
  find(tokenHash: Uint8Array, fresh?: boolean): Promise<FindResult>;
  /** Reads a live session without touching it, with the milliseconds it has left. */
  peek(tokenHash: Uint8Array): Promise<(SessionRecord & { expiresInMs: number }) | null>;
  /** Inserts a new session (never adopts an existing row); its record as inserted, with empty `data`. */
  insert(row: NewSessionRow): Promise<SessionRecord>;
  /** Merges changed keys into a live session (by public id when given); the new version, or why nothing was written. */
  save(id: string | null, tokenHash: Uint8Array, changes: DataChanges, expectedVersion: number | null): Promise<number | MissReason>;
  /** Gives the session a new token (and, for a login, a user), merging pending changes. */
  rotate(
    tokenHash: Uint8Array,
    newTokenHash: Uint8Array,
    staleMs: number,
    changes?: DataChanges,
    login?: LoginChange | null,
  ): Promise<SessionRecord | MissReason>;
  /** Replaces the whole data, optionally resetting the expiry to `ttlMs`; false when the session is not live. */
  replace(tokenHash: Uint8Array, data: string, ttlMs: number | null): Promise<boolean>;
  /** Deletes the session the token (or its grace-window predecessor) names. */
  remove(tokenHash: Uint8Array): Promise<EndedSession | null>;
  /** Ends a session but keeps an expired, empty row until pruned, so its token cannot start it again meanwhile. */
  tombstone(tokenHash: Uint8Array): Promise<boolean>;
  /**
   * Replaces the whole data of a live session and sets its idle expiry `idleMs` from now
   * (within its absolute expiry), `idleMs` and `touchAfterMs` becoming its own; false when it is not live.
   */
  replaceSliding(tokenHash: Uint8Array, data: string, idleMs: number, touchAfterMs: number): Promise<boolean>;
  /**
   * Sets a live session's idle expiry `idleMs` from now (within its absolute expiry), only
   * when that moves it by at least its touch_after; whether it wrote.
   */
  renew(tokenHash: Uint8Array, idleMs: number, touchAfterMs: number): Promise<boolean>;
  /** Live sessions of a user (in one audience unless null), most recently seen first. */
  listByUser(userId: string, audience: string | null): Promise<SessionSummary[]>;
  /** Deletes one session by public id. */
  revokeById(id: string): Promise<EndedSession | null>;
  /** Deletes a user's sessions: in one audience (null: all), all but one, or those issued before a time. */
  revokeByUser(
    userId: string,
    options: { audience: string | null; exceptId: string | null; issuedBefore: Date | null },
  ): Promise<EndedSession[]>;
  /** Live sessions (public id, data, expiry), by id, at most `limit`. */
  listLive(audience: string | null, limit: number): Promise<Array<{ id: string; data: Record<string, unknown>; expiresAt: Date }>>;
  /** How many sessions are live. */
  countLive(audience: string | null): Promise<number>;
  /** Deletes every session (of one audience when given); the count. */
  removeAll(audience: string | null): Promise<number>;
}

/** One open transaction on a sessions table. */
export interface SessionTableTransaction {
  /** The table's rows, read and written inside this transaction. */
  readonly rows: SessionRows;
  /** The query function for application SQL inside this transaction. */
  readonly sql: SessionSql;
  /** Sets the transaction-local session settings read by `session_id()`, `user_id()`, `audience()` of this table's schema (those of another schema answer null). */
  enterSession(session: TransactionSession): Promise<void>;
  /** Serializes the logins of one user on this table until the transaction ends. */
  lockUser(userId: string): Promise<void>;
  /** Deletes a user's live sessions (in one audience) beyond the `keep` newest, never `currentId`; their ids. */
  trimUserSessions(userId: string, audience: string | null, keep: number, currentId: string): Promise<string[]>;
}

/**
 * One sessions table, bound to a clock and an audience: what the session manager needs of
 * a database. Every failure of the database rejects with `SessionStoreError`.
 */
export interface SessionTable extends SessionRows {
  /** Which client runs it: `"pg"`, `"postgres"` or `"pglite"`. */
  readonly kind: string;
  /** Schema and table. */
  readonly name: TableName;
  /** Deletes expired rows in bounded batches, one prune at a time per table (an advisory lock and a lease; see {@link PruneRun}). */
  prune(run: PruneRun): Promise<PruneResult>;
  /** `find` from the database, for the read cache (see {@link CacheableFind}). */
  findForCache(tokenHash: Uint8Array): Promise<CacheableFind>;
  /**
   * Creates or updates the schema and table; the versions applied. With `cache`, also
   * installs the read cache's change triggers (which stay when a later migrate has no `cache`).
   */
  migrate(options: { unlogged: boolean; cache?: boolean }): Promise<number[]>;
  /** Versions applied so far, and the latest the package ships. */
  migrationStatus(): Promise<MigrationStatus>;
  /** Whether the table exists. */
  exists(): Promise<boolean>;
  /** Live, expired and authenticated counts. */
  counts(): Promise<TableCounts>;
  /** Usage statistics over the live sessions. */
  stats(): Promise<SessionStats>;
  /** Runs `fn` in one transaction on one connection: COMMIT when it resolves, ROLLBACK when it throws. */
  transaction<T>(fn: (tx: SessionTableTransaction) => Promise<T>): Promise<T>;
  /** Releases the database client if pgsession created it. */
  close(): Promise<void>;
}
