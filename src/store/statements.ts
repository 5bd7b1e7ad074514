/**
 * Every SQL statement pgsession runs on a sessions table, written once for all drivers
 * and built from the fragments of `sql/fragments.ts`.
 *
 * Each statement that reads the clock is built in two forms (see `sql/build.ts`): on the
 * database's clock, `now()` and the parameters from `$1`, as every application runs; and
 * on an injected clock, the timestamp as `$1` and the parameters from `$2`, as the tests
 * run. Token hashes travel as their 32 bytes (`bytea`: node-postgres sends them binary,
 * postgres.js and PGlite as bytea text); durations travel as milliseconds; JSON travels
 * as text cast to jsonb.
 * Every statement sits here with the reason for its shape, so the hot path's SQL reads in
 * one file: that is why it passes 250 lines.
 * @module
 */
import { packedRow } from "./row.js";
import { findByFunction, findQuery, mergeByFunction, mergeQuery } from "./plan-cached.js";
import { clockedStatement, plainStatement, type BuiltStatement } from "./sql/build.js";
import {
  dataSize,
  fitsIn,
  inAudience,
  isAudience,
  isExpired,
  isLive,
  isPreviousToken,
  isTouchDue,
  knowsToken,
  matchesToken,
  mergedData,
  milliseconds,
  qualifiedName,
  slidExpiry,
  touchCall,
  type Clock,
} from "./sql/fragments.js";
import type { TableName } from "../session/table.js";

/** The prepared statements for one sessions table, on one clock. */
export interface Statements {
  readonly find: BuiltStatement;
  readonly findByFunction: BuiltStatement;
  readonly mergeByFunction: BuiltStatement;
  readonly findCache: BuiltStatement;
  readonly findPrevious: BuiltStatement;
  readonly peek: BuiltStatement;
  readonly insert: BuiltStatement;
  readonly saveMerge: BuiltStatement;
  readonly save: BuiltStatement;
  readonly saveByToken: BuiltStatement;
  readonly rotate: BuiltStatement;
  readonly replace: BuiltStatement;
  readonly remove: BuiltStatement;
  readonly tombstone: BuiltStatement;
  readonly replaceSliding: BuiltStatement;
  readonly renew: BuiltStatement;
  readonly probe: BuiltStatement;
  readonly listByUser: BuiltStatement;
  readonly revokeById: BuiltStatement;
  readonly revokeByUser: BuiltStatement;
  readonly pruneBatch: BuiltStatement;
  readonly pruneLock: BuiltStatement;
  readonly listLive: BuiltStatement;
  readonly countLive: BuiltStatement;
  readonly removeAll: BuiltStatement;
}

/**
 * Blocks until this transaction holds the named advisory lock (migrations, explicit
 * prunes, a user's logins); it is released at COMMIT or ROLLBACK.
 */
export const WAIT_FOR_LOCK = plainStatement(
  "wait_lock",
  { key: "text" },
  (p) => `SELECT true AS locked FROM pg_advisory_xact_lock(hashtext(${p.key}))`,
);

/** Takes the named advisory lock for this transaction if it is free; `locked` says whether. */
export const TRY_LOCK = plainStatement(
  "try_lock",
  { key: "text" },
  (p) => `SELECT pg_try_advisory_xact_lock(hashtext(${p.key})) AS locked`,
);

/** Whether a relation exists, by its qualified name (`present`). */
export const TABLE_EXISTS = plainStatement("table_exists", { name: "text" }, (p) => `SELECT to_regclass(${p.name}) IS NOT NULL AS present`);

/**
 * Builds the statements for a validated schema and table, on one clock.
 *
 * @example
 * ```ts
 * const sql = buildStatements({ schema: "pgsession", table: "sessions" }, "database");
 * await driver.query(sql.find, [tokenHash]);
 * ```
 */
export function buildStatements(names: TableName, clock: Clock): Statements {
  const t = qualifiedName(names);
  // Statements that reach a session by its token alone see only the table's audience
  // (isAudience); the writes that follow a read of the session (save, rotate) need not.
  const ownToken = { token: "bytea", audience: "text" } as const;
  const writes = {
    token: "bytea",
    deleted: "text",
    set: "text",
    cleared: "boolean",
    expectedVersion: "integer",
    limit: "integer",
  } as const;

  // The read by the current token; `extra` adds columns beside the packed row.
  const findText = (p: { token: string; audience: string; now: string }, extra = "") => findQuery(names, p, extra);

  return {
    // The read, and the idle-timeout extension when one is due, in ONE statement: a single
    // index lookup of the current token. The plan is kept flat on purpose: PostgreSQL
    // initializes every node and expression of a plan on each execution, and that, not the
    // lookup, is most of what a read costs it. The audience is in the WHERE clause, not
    // checked afterwards, so that a read under another audience touches nothing.
    find: clockedStatement(clock, "find", ownToken, (p) => findText(p)),
    // The same read through the table's read function, for drivers that send statements
    // unnamed (see plan-cached.ts): it answers one row, whose r is null when nothing matched.
    findByFunction: findByFunction(names, clock),
    // The same for the read cache, which must know when the row's next touch is due (its
    // own touch_after): one column more, in a statement of its own, so that the read
    // without a cache stays as it is.
    findCache: clockedStatement(clock, "find_cache", ownToken, (p) =>
      findText(p, `, (extract(epoch FROM s.touch_after) * 1000)::float8 AS touch_after_ms`),
    ),
    // The same by the previous token inside its grace window: run only when `find` found
    // nothing (a rotated-away token, or an unknown or expired one). A token a login replaced
    // comes back flagged `retired`, untouched, for the domain to refuse as superseded.
    findPrevious: clockedStatement(
      clock,
      "find_previous",
      ownToken,
      (p) =>
        `SELECT ${packedRow({ current: "false", touch: `CASE WHEN NOT s.prev_login AND ${isTouchDue(p.now)} THEN ${touchCall(names, p.now)} END` })},
              s.prev_login AS retired
         FROM ${t} s WHERE ${isPreviousToken(p.now, p.token)} AND ${isLive(p.now)} AND ${isAudience(p.audience)}`,
    ),
    // A read with no side effect (the low-level store's get).
    peek: clockedStatement(
      clock,
      "peek",
      ownToken,
      (p) =>
        `SELECT ${packedRow({ current: `s.token_hash = ${p.token}`, touch: "NULL" })},
              (extract(epoch FROM s.idle_expires_at - ${p.now}) * 1000)::float8 AS expires_in
         FROM ${t} s WHERE ${matchesToken(p.now, p.token)} AND ${isLive(p.now)} AND ${isAudience(p.audience)}`,
    ),
    // Creating is INSERT only: a token collision fails loudly instead of adopting a row.
    // Nothing comes back: the caller knows what it inserted. The clock and the durations
    // are computed once in a subquery that OFFSET 0 keeps from being flattened into the
    // target list, where each use would be an expression PostgreSQL sets up again.
    insert: clockedStatement(
      clock,
      "insert",
      {
        token: "bytea",
        id: "text",
        userId: "text",
        audience: "text",
        data: "text",
        remember: "boolean",
        ip: "text",
        userAgent: "text",
        idle: "float8",
        touchAfter: "float8",
        absolute: "float8",
      },
      (p) =>
        `INSERT INTO ${t} AS s (id, token_hash, user_id, audience, data, remember, ip, user_agent,
              created_at, last_seen_at, updated_at, token_issued_at, authenticated_at, idle_timeout, touch_after,
              idle_expires_at, absolute_expires_at)
       SELECT ${p.id}, ${p.token}, ${p.userId}, ${p.audience}, ${p.data}::jsonb, ${p.remember}, ${p.ip}, ${p.userAgent},
              c.at, c.at, c.at, c.at, CASE WHEN ${p.userId} IS NULL THEN NULL ELSE c.at END, c.idle, ${milliseconds(p.touchAfter)},
              c.at + least(c.idle, c.absolute), c.at + c.absolute
         FROM (SELECT ${p.now} AS at, ${milliseconds(p.idle)} AS idle, ${milliseconds(p.absolute)} AS absolute OFFSET 0) c`,
    ),
    // The usual save: keys set (none deleted, not cleared, no compare-and-set) by the
    // current token. The fewest expressions PostgreSQL must set up on each execution; when
    // it matches nothing, `save` below decides (a grace-window token, or a session gone).
    // Every merge refuses in its WHERE a result past `limit` (maxDataSize): it is checked
    // against the row as it is when the UPDATE locks it, after any parallel write, which no
    // check before the statement can see. A refusal matches nothing; `probe` tells why.
    saveMerge: clockedStatement(clock, "save_merge", { token: "bytea", set: "text", limit: "integer" }, (p) => mergeQuery(names, p)),
    // The same through the table's merge function, for drivers that send statements unnamed.
    mergeByFunction: mergeByFunction(names, clock),
    // Saving: only the changed keys, only on a live row, optionally compare-and-set. The
    // row is found by primary key, and the token (or its grace-window predecessor) must
    // still be its own.
    save: clockedStatement(
      clock,
      "save",
      { ...writes, id: "text" },
      (p) =>
        `UPDATE ${t} s SET data = ${mergedData(p.deleted, p.set, p.cleared)}, version = s.version + 1, updated_at = ${p.now}
        WHERE s.id = ${p.id} AND ${matchesToken(p.now, p.token)} AND ${isLive(p.now)}
          AND (${p.expectedVersion} IS NULL OR s.version = ${p.expectedVersion})
          AND ${fitsIn(mergedData(p.deleted, p.set, p.cleared), p.limit)}
       RETURNING s.version`,
    ),
    // The same, for callers that know only the token (express-session's store).
    saveByToken: clockedStatement(
      clock,
      "save_by_token",
      writes,
      (p) =>
        `UPDATE ${t} s SET data = ${mergedData(p.deleted, p.set, p.cleared)}, version = s.version + 1, updated_at = ${p.now}
        WHERE ${matchesToken(p.now, p.token)} AND ${isLive(p.now)}
          AND (${p.expectedVersion} IS NULL OR s.version = ${p.expectedVersion})
          AND ${fitsIn(mergedData(p.deleted, p.set, p.cleared), p.limit)}
       RETURNING s.version`,
    ),
    // Rotation (and login, which is a rotation that binds a user): only the holder of the
    // CURRENT token may rotate, so there is exactly one successor. A login's new expiries
    // keep the idle one within the absolute one, as every writer does.
    rotate: clockedStatement(
      clock,
      "rotate",
      {
        token: "bytea",
        newToken: "bytea",
        stale: "float8",
        deleted: "text",
        set: "text",
        cleared: "boolean",
        login: "boolean",
        userId: "text",
        remember: "boolean",
        idle: "float8",
        touchAfter: "float8",
        absolute: "float8",
        ip: "text",
        userAgent: "text",
        limit: "integer",
      },
      (p) =>
        `UPDATE ${t} s SET
              token_hash = ${p.newToken}, token_issued_at = ${p.now}, prev_token_hash = s.token_hash,
              prev_expires_at = ${p.now} + ${milliseconds(p.stale)}, prev_login = ${p.login},
              data = ${mergedData(p.deleted, p.set, p.cleared)}, version = s.version + 1,
              user_id = CASE WHEN ${p.login} THEN ${p.userId} ELSE s.user_id END,
              remember = CASE WHEN ${p.login} THEN ${p.remember} ELSE s.remember END,
              authenticated_at = CASE WHEN ${p.login} THEN (CASE WHEN ${p.userId} IS NULL THEN NULL ELSE ${p.now} END)
                ELSE s.authenticated_at END,
              idle_timeout = CASE WHEN ${p.login} THEN ${milliseconds(p.idle)} ELSE s.idle_timeout END,
              touch_after = CASE WHEN ${p.login} THEN ${milliseconds(p.touchAfter)} ELSE s.touch_after END,
              absolute_expires_at = CASE WHEN ${p.login} THEN ${p.now} + ${milliseconds(p.absolute)} ELSE s.absolute_expires_at END,
              idle_expires_at = CASE WHEN ${p.login}
                THEN least(${p.now} + ${milliseconds(p.idle)}, ${p.now} + ${milliseconds(p.absolute)}) ELSE s.idle_expires_at END,
              last_seen_at = ${p.now},
              updated_at = CASE WHEN ${p.login} OR ${p.cleared} OR ${p.set} <> '{}' OR ${p.deleted} <> '[]'
                THEN ${p.now} ELSE s.updated_at END,
              ip = CASE WHEN ${p.login} THEN coalesce(${p.ip}, s.ip) ELSE s.ip END,
              user_agent = CASE WHEN ${p.login} THEN coalesce(${p.userAgent}, s.user_agent) ELSE s.user_agent END
        WHERE s.token_hash = ${p.token} AND ${isLive(p.now)} AND ${fitsIn(mergedData(p.deleted, p.set, p.cleared), p.limit)}
       RETURNING ${packedRow({ current: "true", touch: "NULL" })}`,
    ),
    // The low-level store's set: replace the data, optionally reset the expiry (both
    // expiries to the same time, which keeps the idle one within the absolute one).
    replace: clockedStatement(
      clock,
      "replace",
      { ...ownToken, data: "text", ttl: "float8" },
      (p) =>
        `UPDATE ${t} s SET data = ${p.data}::jsonb, version = s.version + 1, updated_at = ${p.now},
              idle_timeout = coalesce(${milliseconds(p.ttl)}, s.idle_timeout),
              idle_expires_at = coalesce(${p.now} + ${milliseconds(p.ttl)}, s.idle_expires_at),
              absolute_expires_at = coalesce(${p.now} + ${milliseconds(p.ttl)}, s.absolute_expires_at)
        WHERE ${matchesToken(p.now, p.token)} AND ${isLive(p.now)} AND ${isAudience(p.audience)}
       RETURNING s.version`,
    ),
    remove: clockedStatement(
      clock,
      "remove",
      ownToken,
      // Any token the session knows, the one a login replaced included: a logout that races
      // a login of the same session ends it, successor and all, instead of missing it.
      (p) => `DELETE FROM ${t} s WHERE ${knowsToken(p.now, p.token)} AND ${isAudience(p.audience)} RETURNING s.id, s.user_id, s.audience`,
    ),
    // Ends a session but keeps its row, emptied and expired, until the next prune: for
    // stores that insert on first save (express-session), the row's token hash then blocks
    // a late save from re-creating the session.
    tombstone: clockedStatement(
      clock,
      "tombstone",
      ownToken,
      (p) =>
        `UPDATE ${t} s SET data = '{}'::jsonb, user_id = NULL, prev_token_hash = NULL, updated_at = ${p.now},
              idle_expires_at = ${p.now} - interval '1 millisecond', version = s.version + 1
        WHERE ${matchesToken(p.now, p.token)} AND ${isLive(p.now)} AND ${isAudience(p.audience)}
       RETURNING s.id`,
    ),
    // Sessions whose lifetime a cookie sets (express-session's store, through the token
    // store's put and renew): each write says how long the session now lives, counted from
    // now, within the absolute expiry fixed at its creation, which it never moves.
    replaceSliding: clockedStatement(
      clock,
      "replace_sliding",
      { token: "bytea", audience: "text", data: "text", idle: "float8", touchAfter: "float8" },
      (p) =>
        `UPDATE ${t} s SET data = ${p.data}::jsonb, version = s.version + 1, updated_at = ${p.now}, last_seen_at = ${p.now},
              idle_timeout = ${milliseconds(p.idle)}, touch_after = ${milliseconds(p.touchAfter)},
              idle_expires_at = ${slidExpiry(p.now, p.idle)}
        WHERE ${matchesToken(p.now, p.token)} AND ${isLive(p.now)} AND ${isAudience(p.audience)}
       RETURNING s.version`,
    ),
    // The same without data (express-session's touch), written only when it moves the
    // expiry by at least the row's touch_after either way: a touch on every request then
    // costs a write once per touch_after, and a lifetime that changed is applied.
    renew: clockedStatement(
      clock,
      "renew",
      { token: "bytea", audience: "text", idle: "float8", touchAfter: "float8" },
      (p) =>
        `UPDATE ${t} s SET last_seen_at = ${p.now}, idle_timeout = ${milliseconds(p.idle)}, touch_after = ${milliseconds(p.touchAfter)},
              idle_expires_at = ${slidExpiry(p.now, p.idle)}
        WHERE ${matchesToken(p.now, p.token)} AND ${isLive(p.now)} AND ${isAudience(p.audience)}
          AND (${slidExpiry(p.now, p.idle)} >= s.idle_expires_at + s.touch_after
               OR ${slidExpiry(p.now, p.idle)} <= s.idle_expires_at - s.touch_after)
       RETURNING s.version`,
    ),
    // After a write matched nothing: is the session gone, was it a conflict, or would the
    // merge have passed the size limit? A token a rotation or a login replaced meanwhile is
    // a conflict (the session lives on), not "gone". The size is that of the write's merge
    // on the row as it is now, after the write that made it too large.
    probe: clockedStatement(
      clock,
      "probe",
      { token: "bytea", deleted: "text", set: "text", cleared: "boolean" },
      (p) =>
        `SELECT s.version, s.token_hash = ${p.token} AS current, ${dataSize(mergedData(p.deleted, p.set, p.cleared))} AS size
         FROM ${t} s WHERE ${knowsToken(p.now, p.token)} AND ${isLive(p.now)}`,
    ),
    listByUser: clockedStatement(
      clock,
      "list_by_user",
      { userId: "text", audience: "text" },
      (p) =>
        `SELECT s.id, s.audience, s.remember, s.ip, s.user_agent, s.created_at, s.last_seen_at,
              s.updated_at, s.authenticated_at, s.idle_expires_at AS expires_at
         FROM ${t} s
        WHERE s.user_id = ${p.userId} AND ${inAudience(p.audience)} AND ${isLive(p.now)}
        ORDER BY s.last_seen_at DESC, s.id`,
    ),
    revokeById: plainStatement(
      "revoke_by_id",
      { id: "text" },
      (p) => `DELETE FROM ${t} s WHERE s.id = ${p.id} RETURNING s.id, s.user_id, s.audience`,
    ),
    revokeByUser: plainStatement(
      "revoke_by_user",
      { userId: "text", audience: "text", exceptId: "text", issuedBefore: "timestamptz" },
      (p) =>
        `DELETE FROM ${t} s
        WHERE s.user_id = ${p.userId} AND ${inAudience(p.audience)}
          AND (${p.exceptId} IS NULL OR s.id <> ${p.exceptId})
          AND (${p.issuedBefore} IS NULL OR coalesce(s.authenticated_at, s.created_at) < ${p.issuedBefore})
       RETURNING s.id, s.user_id, s.audience`,
    ),
    // Pruning walks the primary key in bounded batches (no index on the expiry columns,
    // which would make every touch a non-HOT update) and deletes the expired rows of each
    // batch. The DELETE re-checks each row, so a session touched meanwhile survives.
    pruneBatch: clockedStatement(
      clock,
      "prune_batch",
      { after: "text", limit: "integer" },
      (p) =>
        `WITH batch AS (
         SELECT s.id FROM ${t} s WHERE s.id > ${p.after} ORDER BY s.id LIMIT ${p.limit}
       ), gone AS (
         DELETE FROM ${t} s USING batch b
          WHERE s.id = b.id AND ${isExpired(p.now)}
         RETURNING s.id, s.user_id, s.audience
       )
       SELECT (SELECT max(id) FROM batch) AS last_id,
              (SELECT count(*) FROM batch)::integer AS scanned,
              (SELECT count(*) FROM gone)::integer AS deleted,
              (SELECT coalesce(json_agg(json_build_array(g.id, g.user_id, g.audience)), '[]'::json) FROM gone g)::text AS expired`,
    ),
    pruneLock: TRY_LOCK,
    // Whole-table views for express-session's Store (all, length, clear), within an audience
    // when one is set. Listing is bounded by `limit` rows.
    listLive: clockedStatement(
      clock,
      "list_live",
      { audience: "text", limit: "integer" },
      (p) =>
        `SELECT s.id, s.data, s.idle_expires_at AS expires_at
         FROM ${t} s WHERE ${isLive(p.now)} AND ${inAudience(p.audience)}
        ORDER BY s.id LIMIT ${p.limit}`,
    ),
    countLive: clockedStatement(
      clock,
      "count_live",
      { audience: "text" },
      (p) => `SELECT count(*)::integer AS n FROM ${t} s WHERE ${isLive(p.now)} AND ${inAudience(p.audience)}`,
    ),
    removeAll: plainStatement(
      "remove_all",
      { audience: "text" },
      (p) =>
        `WITH gone AS (DELETE FROM ${t} s WHERE ${inAudience(p.audience)} RETURNING 1)
       SELECT count(*)::integer AS n FROM gone`,
    ),
  };
}
