/**
 * The sessions table as the domain needs it: every read and write the session manager
 * makes, bound to one table and one clock. The PostgreSQL implementation lives in
 * `src/store/` (`openSessionTable`); nothing here knows SQL or a driver.
 * @module
 */

/** A session row as the domain sees it. Never carries the token or its hash. */
export interface SessionRecord {
  id: string;
  userId: string | null;
  audience: string | null;
  data: Record<string, unknown>;
  version: number;
  remember: boolean;
  createdAt: Date;
  lastSeenAt: Date;
  authenticatedAt: Date | null;
  expiresAt: Date;
  absoluteExpiresAt: Date;
  /** False when the row was found by its previous token, inside the rotation grace window. */
  current: boolean;
  /** True when this read also extended the idle expiry. */
  touched: boolean;
  /**
   * An upper bound of the length of the data's JSON text, in characters (0 where the data
   * was not read back: insert).
   */
  dataLength: number;
}

/** A session as listed for its user. */
export interface SessionSummary {
  id: string;
  audience: string | null;
  remember: boolean;
  ip: string | null;
  userAgent: string | null;
  createdAt: Date;
  lastSeenAt: Date;
  authenticatedAt: Date | null;
  expiresAt: Date;
}

/** What a new row holds. */
export interface NewSessionRow {
  id: string;
  tokenHash: Uint8Array;
  userId: string | null;
  audience: string | null;
  /** The data column's JSON text (plain data, or a sealed envelope). */
  data: string;
  remember: boolean;
  ip: string | null;
  userAgent: string | null;
  idleMs: number;
  touchAfterMs: number;
  absoluteMs: number;
}

/** Changed keys, serialized. */
export interface DataChanges {
  /** JSON array of deleted keys. */
  deleted: string;
  /** JSON object of keys set. */
  set: string;
  /** Whether the data was cleared before these changes. */
  cleared: boolean;
}

/** What a rotation also does when it is a login. */
export interface LoginChange {
  userId: string | null;
  remember: boolean;
  idleMs: number;
  touchAfterMs: number;
  absoluteMs: number;
  ip: string | null;
  userAgent: string | null;
}

/** Why a write matched no row: the session is gone, a compare-and-set lost, or the token was replaced. */
export type MissReason = "gone" | "conflict" | "stale";

/**
 * What a read by token found: the session, nothing (unknown, expired or revoked), or
 * `"superseded"`: the token a login replaced, still inside its grace window, which names
 * a session it may no longer reach.
 */
export type FindResult = SessionRecord | "superseded" | null;

/** Outcome of one prune run. */
export interface PruneResult {
  /** Rows deleted. */
  deleted: number;
  /** Rows examined. */
  scanned: number;
  /** False when another instance held the prune lock and this run did nothing. */
  locked: boolean;
}

/** The public id, user and audience of a session that was deleted (revoked, logged out or expired). */
export interface EndedSession {
  id: string;
  userId: string | null;
  audience: string | null;
}

/** Options of {@link SessionTable.prune}. */
export interface PruneRun {
  /** Rows examined per batch. */
  batchSize: number;
  /** Wait for the prune lock (an explicit prune) instead of giving up when another instance holds it. */
  wait: boolean;
  /** Milliseconds to wait between batches, outside any transaction. */
  pauseMs?: number;
  /** Progress after each batch. */
  onBatch?: (progress: PruneResult) => void;
  /** The sessions each batch deleted. */
  onExpired?: (sessions: EndedSession[]) => void;
}

/** Counts of one sessions table, as `pgsession status` shows them. */
export interface TableCounts {
  /** Rows whose idle and absolute expiries are both in the future. */
  live: number;
  /** Rows past either expiry, waiting for `prune`. */
  expired: number;
  /** Live rows bound to a user. */
  authenticated: number;
  /** Creation time of the oldest live session, or null when there is none. */
  oldestCreatedAt: Date | null;
  /** Creation time of the newest live session, or null when there is none. */
  newestCreatedAt: Date | null;
  /** Rows of either kind. */
  total: number;
}

/** Usage statistics over the live sessions, as `pgsession stats` shows them. */
export interface SessionStats {
  /** Live sessions per audience (`null` for sessions without one), most first. */
  byAudience: Array<{ audience: string | null; sessions: number; users: number }>;
  /** Live sessions. */
  live: number;
  /** Live "remember me" sessions. */
  remember: number;
  /** `remember / live`, 0 when there are no live sessions. */
  rememberShare: number;
  /** Distinct users with a live session. */
  users: number;
  /** Sessions created in the last hour and the last day (live or not yet pruned). */
  created: { lastHour: number; lastDay: number };
  /** Live sessions seen in the last hour and the last day. */
  seen: { lastHour: number; lastDay: number };
}

/** Migrations applied to a table, and the latest the package ships. */
export interface MigrationStatus {
  applied: number[];
  latest: number;
}

/** Where a table lives. */
export interface TableName {
  readonly schema: string;
  readonly table: string;
}

/**
 * The query function handed to `sessions.transaction`. As a tagged template, every
 * interpolated value becomes a `$n` parameter (never SQL text); `sql.query(text, params)`
 * takes explicit `$n` placeholders.
 *
 * @example
 * ```ts
 * await sessions.transaction(session, async (sql) => {
 *   const notes = await sql`SELECT * FROM notes WHERE title = ${title}`;
 *   await sql.query("INSERT INTO notes (title) VALUES ($1)", [title]);
 * });
 * ```
 */
export interface SessionSql {
  <R extends Record<string, unknown> = Record<string, unknown>>(strings: TemplateStringsArray, ...values: unknown[]): Promise<R[]>;
  /** Runs `text` with `$1..$n` placeholders bound to `params`. */
  query<R extends Record<string, unknown> = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<R[]>;
}

/** Who a session transaction runs for; each value may be null. */
export interface TransactionSession {
  id: string | null;
  userId: string | null;
  audience: string | null;
}

/** The row-level reads and writes of sessions, on the table itself or inside one of its transactions. */
export interface SessionRows {
  /** Reads a live session by token hash, extending its idle expiry if a touch is due. */
  find(tokenHash: Uint8Array): Promise<FindResult>;
  /** Reads a live session without touching it, with the milliseconds it has left. */
  peek(tokenHash: Uint8Array): Promise<(SessionRecord & { expiresInMs: number }) | null>;
  /** Inserts a new session (never adopts an existing row); its record as inserted, with empty `data`. */
  insert(row: NewSessionRow): Promise<SessionRecord>;
  /** Merges changed keys into a live session (by public id when given); the new version, or why nothing was written. */
  save(id: string | null, tokenHash: Uint8Array, changes: DataChanges, expectedVersion: number | null): Promise<number | MissReason>;
  /** Gives the session a new token (and, for a login, a user), merging pending changes. */
  rotate(tokenHash: Uint8Array, newTokenHash: Uint8Array, staleMs: number, changes?: DataChanges, login?: LoginChange | null): Promise<SessionRecord | MissReason>;
  /** Replaces the whole data, optionally resetting the expiry to `ttlMs`; false when the session is not live. */
  replace(tokenHash: Uint8Array, data: string, ttlMs: number | null): Promise<boolean>;
  /** Deletes the session the token (or its grace-window predecessor) names. */
  remove(tokenHash: Uint8Array): Promise<EndedSession | null>;
  /** Ends a session but keeps an expired, empty row until pruned, so its token cannot start it again meanwhile. */
  tombstone(tokenHash: Uint8Array): Promise<boolean>;
  /** Live sessions of a user (in one audience unless null), most recently seen first. */
  listByUser(userId: string, audience: string | null): Promise<SessionSummary[]>;
  /** Deletes one session by public id. */
  revokeById(id: string): Promise<EndedSession | null>;
  /** Deletes a user's sessions: in one audience (null: all), all but one, or those issued before a time. */
  revokeByUser(userId: string, options: { audience: string | null; exceptId: string | null; issuedBefore: Date | null }): Promise<EndedSession[]>;
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
  /** Sets the transaction-local session settings read by `session_id()`, `user_id()`, `audience()`. */
  enterSession(session: TransactionSession): Promise<void>;
  /** Serializes the logins of one user on this table until the transaction ends. */
  lockUser(userId: string): Promise<void>;
  /** Deletes a user's live sessions (in one audience) beyond the `keep` newest, never `currentId`; their ids. */
  trimUserSessions(userId: string, audience: string | null, keep: number, currentId: string): Promise<string[]>;
}

/**
 * One sessions table, bound to a clock: what the session manager needs of a database.
 * Every failure of the database rejects with `SessionStoreError`.
 */
export interface SessionTable extends SessionRows {
  /** Which client runs it: `"pg"`, `"postgres"` or `"pglite"`. */
  readonly kind: string;
  /** Schema and table. */
  readonly name: TableName;
  /** Deletes expired rows in bounded batches under an advisory lock (see {@link PruneRun}). */
  prune(run: PruneRun): Promise<PruneResult>;
  /** Creates or updates the schema and table; the versions applied. */
  migrate(options: { unlogged: boolean }): Promise<number[]>;
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
