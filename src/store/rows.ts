/**
 * Row reads and writes of one sessions table, over one connection or transaction: the
 * hot path. Each method is one statement (one round trip), except on rare paths that say so.
 * One class with one method per statement of `SessionRows`, which is why the file passes
 * 250 lines: split, the hot path would no longer read in one place.
 * @module
 */
import { SessionDataTooLargeError } from "../errors.js";
import { toStoreError } from "../lib/store-error.js";
import type {
  CacheableFind,
  DataChanges,
  EndedSession,
  FindResult,
  LoginChange,
  MissReason,
  NewSessionRow,
  SessionRecord,
  SessionRows,
  SessionSummary,
  TableName,
} from "../session/table.js";
import type { Queryable, Row, Statement } from "../driver.js";
import { recordOf } from "./row.js";
import type { BuiltStatements } from "./statement-forms.js";
import type { Statements } from "./statements.js";

const EMPTY_CHANGES: DataChanges = { deleted: "[]", set: "{}", cleared: false };

/** Whether changes change nothing (a rotation's, when the request wrote no data). */
function isEmpty(changes: DataChanges): boolean {
  return !changes.cleared && changes.set === "{}" && changes.deleted === "[]";
}

/** The public id, user and audience of a row a DELETE returned. */
function endedSession(row: Row): EndedSession {
  return { id: row.id as string, userId: (row.user_id as string | null) ?? null, audience: (row.audience as string | null) ?? null };
}

/** Tables whose missing schema was already reported, so that the log says it once, not per request. */
const reportedMissing = new Set<string>();

/** SQLSTATEs of a missing table or function: the migrations have not run. */
const MISSING_SCHEMA = new Set(["42P01", "42883", "3F000"]);

/** SQLSTATE 25006: the database is read-only (a standby, or a failover in progress). */
const READ_ONLY = "25006";

/** The clock a table is bound to: an injected one (tests), or null for the database's `now()`. */
export type TableClock = (() => Date) | null;

/**
 * Row reads and writes over one connection or transaction. Those that reach a session by
 * its token alone see only the sessions of `audience` (exactly: null sees only sessions
 * without one).
 */
export class SqlRows implements SessionRows {
  readonly #on: Queryable;
  readonly #clock: TableClock;
  readonly #statements: BuiltStatements;
  readonly #name: TableName;
  readonly #audience: string | null;

  constructor(on: Queryable, clock: TableClock, statements: BuiltStatements, name: TableName, audience: string | null) {
    this.#on = on;
    this.#clock = clock;
    this.#statements = statements;
    this.#name = name;
    this.#audience = audience;
  }

  /** The clock parameter of a statement: the injected time, or null for the database's. */
  #now(): Date | null {
    return this.#clock === null ? null : this.#clock();
  }

  /** Runs a statement, on the database's clock when none is injected (`$1` null). */
  async run(what: string, stmt: Statement, params: readonly unknown[], on: Queryable = this.#on): Promise<Row[]> {
    // No injected clock ($1 null): the statement that uses now() and takes one parameter fewer.
    if (params[0] === null) {
      const plain = this.#statements.onDatabaseClock.get(stmt);
      if (plain !== undefined) {
        stmt = plain;
        params = params.slice(1);
      }
    }
    try {
      return await on.query(stmt, params);
    } catch (err) {
      const error = toStoreError(err, what);
      if (error.sqlState !== undefined && MISSING_SCHEMA.has(error.sqlState)) this.#reportMissing(error);
      throw error;
    }
  }

  #reportMissing(error: Error): void {
    const key = `${this.#name.schema}.${this.#name.table}`;
    if (reportedMissing.has(key)) return;
    reportedMissing.add(key);
    // The error already says what to run; the log says it once per table, not once per request.
    console.error(error.message);
  }

  get #sql(): Statements {
    return this.#statements.sql;
  }

  async find(tokenHash: Uint8Array): Promise<FindResult> {
    const now = this.#now();
    let rows: Row[];
    try {
      rows = await this.run("reading the session", this.#sql.find, [now, tokenHash, this.#audience]);
    } catch (err) {
      return this.#findReadOnly(err, tokenHash);
    }
    // Through the read function (unnamed statements), a miss is one row whose r is null.
    const row = rows[0];
    if (row !== undefined && row.r !== null) return recordOf(row);
    return this.#findPrevious(now, tokenHash);
  }

  /**
   * `find` for the read cache: the same read, with the row's `touch_after` when the current
   * token found it (null otherwise: only such a read may be cached).
   */
  async findForCache(tokenHash: Uint8Array): Promise<CacheableFind> {
    const now = this.#now();
    let rows: Row[];
    try {
      rows = await this.run("reading the session", this.#sql.findCache, [now, tokenHash, this.#audience]);
    } catch (err) {
      return { found: await this.#findReadOnly(err, tokenHash), touchAfterMs: null };
    }
    const row = rows[0];
    if (row) return { found: recordOf(row), touchAfterMs: row.touch_after_ms as number };
    return { found: await this.#findPrevious(now, tokenHash), touchAfterMs: null };
  }

  /**
   * A read-only database (a failover in progress) still answers reads: the due touch,
   * which cannot be written, is skipped rather than failing the request. Any other error
   * is rethrown.
   */
  async #findReadOnly(err: unknown, tokenHash: Uint8Array): Promise<FindResult> {
    if ((err as { sqlState?: string }).sqlState !== READ_ONLY) throw err;
    const record = await this.peek(tokenHash);
    return record && record.current ? record : null;
  }

  /** Rare: a token rotated away within its grace window (or one that is unknown or expired). */
  async #findPrevious(now: Date | null, tokenHash: Uint8Array): Promise<FindResult> {
    const previous = await this.run("reading the session", this.#sql.findPrevious, [now, tokenHash, this.#audience]);
    if (!previous[0]) return null;
    return previous[0].retired === true ? "superseded" : recordOf(previous[0]);
  }

  async peek(tokenHash: Uint8Array): Promise<(SessionRecord & { expiresInMs: number }) | null> {
    const rows = await this.run("reading the session", this.#sql.peek, [this.#now(), tokenHash, this.#audience]);
    return rows[0] ? { ...recordOf(rows[0]), expiresInMs: Math.floor(rows[0].expires_in as number) } : null;
  }

  /**
   * Nothing is sent back: the record is what was inserted, its times by the application's
   * clock at the call (the injected one, if any; the database's clock still governs the expiry).
   */
  async insert(row: NewSessionRow): Promise<SessionRecord> {
    const now = this.#now();
    const at = now ?? new Date();
    await this.run("creating the session", this.#sql.insert, [
      now,
      row.tokenHash,
      row.id,
      row.userId,
      row.audience,
      row.data,
      row.remember,
      row.ip,
      row.userAgent,
      row.idleMs,
      row.touchAfterMs,
      row.absoluteMs,
    ]);
    const ms = at.getTime();
    return {
      id: row.id,
      userId: row.userId,
      audience: row.audience,
      data: {},
      version: 1,
      remember: row.remember,
      createdAt: at,
      lastSeenAt: at,
      updatedAt: at,
      tokenIssuedAt: at,
      authenticatedAt: row.userId === null ? null : at,
      expiresAt: new Date(ms + Math.min(row.idleMs, row.absoluteMs)),
      absoluteExpiresAt: new Date(ms + row.absoluteMs),
      current: true,
      touched: false,
      dataLength: 0,
    };
  }

  async save(id: string | null, tokenHash: Uint8Array, changes: DataChanges, expectedVersion: number | null): Promise<number | MissReason> {
    const now = this.#now();
    const limit = changes.limit ?? null;
    if (expectedVersion === null && !changes.cleared && changes.deleted === "[]") {
      const merged = await this.run("saving the session", this.#sql.saveMerge, [now, tokenHash, changes.set, limit]);
      // Through the merge function (unnamed statements), a miss is one row whose version is null.
      const version = merged[0]?.version;
      if (version !== undefined && version !== null) return version as number;
      // Not by the current token: the general statement tells a grace-window token from a session gone.
    }
    const params = [now, tokenHash, changes.deleted, changes.set, changes.cleared, expectedVersion, limit];
    const rows =
      id === null
        ? await this.run("saving the session", this.#sql.saveByToken, params)
        : await this.run("saving the session", this.#sql.save, [...params, id]);
    if (rows[0]) return rows[0].version as number;
    return this.#miss(now, tokenHash, changes, expectedVersion !== null);
  }

  async rotate(
    tokenHash: Uint8Array,
    newTokenHash: Uint8Array,
    staleMs: number,
    changes: DataChanges = EMPTY_CHANGES,
    login: LoginChange | null = null,
  ): Promise<SessionRecord | MissReason> {
    const now = this.#now();
    const rows = await this.run(login ? "logging in" : "rotating the session", this.#sql.rotate, [
      now,
      tokenHash,
      newTokenHash,
      staleMs,
      changes.deleted,
      changes.set,
      changes.cleared,
      login !== null,
      login?.userId ?? null,
      login?.remember ?? false,
      login?.idleMs ?? 0,
      login?.touchAfterMs ?? 0,
      login?.absoluteMs ?? 0,
      login?.ip ?? null,
      login?.userAgent ?? null,
      // A rotation that changes no data stores it as it is, even past a limit lowered since.
      isEmpty(changes) ? null : (changes.limit ?? null),
    ]);
    return rows[0] ? recordOf(rows[0]) : this.#miss(now, tokenHash, changes, false);
  }

  async replace(tokenHash: Uint8Array, data: string, ttlMs: number | null): Promise<boolean> {
    const rows = await this.run("saving the session", this.#sql.replace, [this.#now(), tokenHash, this.#audience, data, ttlMs]);
    return rows.length > 0;
  }

  async remove(tokenHash: Uint8Array): Promise<EndedSession | null> {
    const rows = await this.run("deleting the session", this.#sql.remove, [this.#now(), tokenHash, this.#audience]);
    return rows[0] ? endedSession(rows[0]) : null;
  }

  async tombstone(tokenHash: Uint8Array): Promise<boolean> {
    return (await this.run("ending the session", this.#sql.tombstone, [this.#now(), tokenHash, this.#audience])).length > 0;
  }

  async replaceSliding(tokenHash: Uint8Array, data: string, idleMs: number, touchAfterMs: number): Promise<boolean> {
    const rows = await this.run("saving the session", this.#sql.replaceSliding, [
      this.#now(),
      tokenHash,
      this.#audience,
      data,
      idleMs,
      touchAfterMs,
    ]);
    return rows.length > 0;
  }

  async renew(tokenHash: Uint8Array, idleMs: number, touchAfterMs: number): Promise<boolean> {
    return (
      (await this.run("extending the session", this.#sql.renew, [this.#now(), tokenHash, this.#audience, idleMs, touchAfterMs])).length > 0
    );
  }

  /**
   * Rare path: a write matched no row; one more query tells the caller why: the session is
   * gone, its token was replaced, or its merge would pass the size limit
   * ({@link SessionDataTooLargeError}, measured on the row as the write that made it too
   * large left it).
   */
  async #miss(now: Date | null, tokenHash: Uint8Array, changes: DataChanges, compareAndSet: boolean): Promise<MissReason> {
    const rows = await this.run("checking the session", this.#sql.probe, [now, tokenHash, changes.deleted, changes.set, changes.cleared]);
    if (!rows[0]) return "gone";
    const limit = isEmpty(changes) ? undefined : changes.limit;
    const size = Number(rows[0].size);
    if (limit !== undefined && size > limit) throw new SessionDataTooLargeError(size, limit);
    if (rows[0].current === false) return "stale";
    // Live under this token: a compare-and-set found another version, or a merge the limit
    // refused fits again because yet another write came in between.
    return compareAndSet || limit !== undefined ? "conflict" : "gone";
  }

  async listByUser(userId: string, audience: string | null): Promise<SessionSummary[]> {
    const rows = await this.run("listing sessions", this.#sql.listByUser, [this.#now(), userId, audience]);
    return rows.map((row) => ({
      id: row.id as string,
      audience: (row.audience as string | null) ?? null,
      remember: row.remember as boolean,
      ip: (row.ip as string | null) ?? null,
      userAgent: (row.user_agent as string | null) ?? null,
      createdAt: row.created_at as Date,
      lastSeenAt: row.last_seen_at as Date,
      updatedAt: row.updated_at as Date,
      authenticatedAt: (row.authenticated_at as Date | null) ?? null,
      expiresAt: row.expires_at as Date,
    }));
  }

  async revokeById(id: string): Promise<EndedSession | null> {
    const rows = await this.run("revoking the session", this.#sql.revokeById, [id]);
    return rows[0] ? endedSession(rows[0]) : null;
  }

  async revokeByUser(
    userId: string,
    options: { audience: string | null; exceptId: string | null; issuedBefore: Date | null },
  ): Promise<EndedSession[]> {
    const rows = await this.run("revoking sessions", this.#sql.revokeByUser, [
      userId,
      options.audience,
      options.exceptId,
      options.issuedBefore,
    ]);
    return rows.map(endedSession);
  }

  async listLive(audience: string | null, limit: number): Promise<Array<{ id: string; data: Record<string, unknown>; expiresAt: Date }>> {
    const rows = await this.run("listing sessions", this.#sql.listLive, [this.#now(), audience, limit]);
    return rows.map((row) => ({
      id: row.id as string,
      data: (row.data as Record<string, unknown>) ?? {},
      expiresAt: row.expires_at as Date,
    }));
  }

  async countLive(audience: string | null): Promise<number> {
    const rows = await this.run("counting sessions", this.#sql.countLive, [this.#now(), audience]);
    return (rows[0]?.n as number | undefined) ?? 0;
  }

  async removeAll(audience: string | null): Promise<number> {
    const rows = await this.run("deleting sessions", this.#sql.removeAll, [audience]);
    return (rows[0]?.n as number | undefined) ?? 0;
  }
}
