/**
 * The values that cross between the session manager and the sessions table: rows as the
 * domain sees them, changes, results, counts and statistics. Types only.
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
  /** When the data or the user last changed. */
  updatedAt: Date;
  /** When the current token was issued: the session's creation, or its last rotation or login. */
  tokenIssuedAt: Date;
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
  /** Public id (not the token): what `revokeSession` takes, safe to log. */
  id: string;
  /** Audience it was created in, or null for none. */
  audience: string | null;
  /** Whether it is a "remember me" session (longer timeouts, persistent cookie). */
  remember: boolean;
  /** Client address recorded when it was first stored, updated by a login that knows one; null when unknown. */
  ip: string | null;
  /** `User-Agent` recorded like `ip`; null when unknown. */
  userAgent: string | null;
  /** When it was first stored. */
  createdAt: Date;
  /** When a request last extended its idle expiry (or rotated it): up to `touchAfter` behind the last request. */
  lastSeenAt: Date;
  /** When the data or the user last changed. */
  updatedAt: Date;
  /** When its user logged in; null for an anonymous session. */
  authenticatedAt: Date | null;
  /** When it ends unless used again: the idle expiry, never later than the absolute one. */
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
  /**
   * The most bytes the merged data may take (`maxDataSize`, counted as PostgreSQL's text of
   * the jsonb): the write refuses a merge past it with `SessionDataTooLargeError`. Absent for
   * sealed data, whose size is checked before it is sealed.
   */
  limit?: number;
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

/**
 * A read for the read cache: what `find` finds, and when the current token found it, the
 * row's `touch_after` in milliseconds (a cached entry goes back to the database when a
 * touch is due); null when the read may not be cached.
 */
export interface CacheableFind {
  found: FindResult;
  touchAfterMs: number | null;
}

/** Outcome of one prune run. */
export interface PruneResult {
  /** Rows deleted. */
  deleted: number;
  /** Rows examined. */
  scanned: number;
  /** False when another prune was under way (it held the prune lock or lease) and this run did nothing. */
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
  /** Wait for another prune under way to end (an explicit prune) instead of giving up at once. */
  wait: boolean;
  /** Milliseconds to wait between batches, outside any transaction (the prune lease carries over). */
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
  byAudience: Array<{
    /** The audience, or null for sessions without one. */
    audience: string | null;
    /** Live sessions in it. */
    sessions: number;
    /** Distinct users with a live session in it. */
    users: number;
  }>;
  /** Live sessions. */
  live: number;
  /** Live "remember me" sessions. */
  remember: number;
  /** `remember / live`, 0 when there are no live sessions. */
  rememberShare: number;
  /** Distinct users with a live session. */
  users: number;
  /** Sessions created in the last hour and the last day (live or not yet pruned). */
  created: {
    /** Created in the last hour. */
    lastHour: number;
    /** Created in the last 24 hours. */
    lastDay: number;
  };
  /** Live sessions seen (their `lastSeenAt`) in the last hour and the last day. */
  seen: {
    /** Seen in the last hour. */
    lastHour: number;
    /** Seen in the last 24 hours. */
    lastDay: number;
  };
}

/** Migrations applied to a table, and the latest the package ships. */
export interface MigrationStatus {
  /** Versions applied to the table, ascending; empty when the table was never migrated. */
  applied: number[];
  /** The highest version this release of pgsession ships. */
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
