/**
 * Every SQL statement pgsession runs on the hot path, written once for all drivers.
 *
 * Conventions: `$1` is always the clock (`NULL` means the database's `now()`, a
 * timestamp is an injected test clock); token hashes travel as their 32 bytes (`bytea`:
 * node-postgres sends them binary, postgres.js and PGlite as bytea text); durations travel
 * as milliseconds; JSON travels as text cast to jsonb.
 * @module
 */
import { statement } from "./schema.js";
import { quoteIdent } from "../lib/identifier.js";
import type { TableName } from "../session/table.js";
import type { Statement } from "../driver.js";

/** The prepared statements for one sessions table. */
export interface Statements {
  readonly find: Statement;
  readonly findPrevious: Statement;
  readonly peek: Statement;
  readonly insert: Statement;
  readonly saveMerge: Statement;
  readonly save: Statement;
  readonly saveByToken: Statement;
  readonly rotate: Statement;
  readonly replace: Statement;
  readonly remove: Statement;
  readonly tombstone: Statement;
  readonly probe: Statement;
  readonly listByUser: Statement;
  readonly revokeById: Statement;
  readonly revokeByUser: Statement;
  readonly pruneBatch: Statement;
  readonly pruneLock: Statement;
  readonly listLive: Statement;
  readonly countLive: Statement;
  readonly removeAll: Statement;
}

const NOW = "coalesce($1::timestamptz, now())";
const MS = (param: string) => `(${param}::float8 * interval '1 millisecond')`;

/**
 * The same statement on the database's clock alone: `now()` at every use of the clock,
 * the other parameters renumbered from `$1`. It is what the store runs when no clock is
 * injected, as in every application (the tests inject one): PostgreSQL sets up each use
 * of the parameter and its `coalesce` on every execution, 5 % of a read's instructions.
 * Null for a statement that takes no clock, or that uses `$1` for something else too.
 *
 * @example
 * ```ts
 * onDatabaseClock(statements.find); // { name: "pgsession_find_now_…", text: "… now() …" }
 * ```
 */
export function onDatabaseClock(stmt: Statement): Statement | null {
  if (!stmt.text.includes(NOW)) return null;
  const text = stmt.text.replaceAll(NOW, "now()");
  if (/\$1(?!\d)/.test(text)) return null;
  return {
    name: stmt.name.replace(/_([0-9a-f]{12})$/, "_now_$1"),
    text: text.replace(/\$(\d+)/g, (_match, n: string) => `$${Number(n) - 1}`),
  };
}

/** Builds the statements for a validated schema and table. */
export function buildStatements(names: TableName): Statements {
  const t = `${quoteIdent(names.schema)}.${quoteIdent(names.table)}`;
  const touch = `${quoteIdent(names.schema)}.${quoteIdent(`${names.table}_touch`)}`;
  // A row answers to its current token, or to the one a rotation replaced, during the
  // grace window. The token a login replaced answers to nothing (migration 004): it is
  // only recognized (`retired`), so that a request still carrying it is refused rather
  // than mistaken for an unknown visitor.
  const previous = `s.prev_token_hash = $2::bytea AND s.prev_expires_at > ${NOW}`;
  const match = `(s.token_hash = $2::bytea OR (${previous} AND NOT s.prev_login))`;
  const known = `(s.token_hash = $2::bytea OR (${previous}))`;
  // Live: before its idle expiry. Every write keeps idle_expires_at at or before
  // absolute_expires_at (the rule of migrations 004 and 006), so this one comparison also
  // enforces the absolute lifetime.
  const live = `s.idle_expires_at > ${NOW}`;
  // A session leaves the database as ONE text column holding a JSON array (see
  // `PackedRecord` in session-store.ts): the data inline, the times as the plain columns,
  // which json_build_array writes as ISO 8601 text with an offset whatever the DateStyle.
  // A driver then parses one field, not thirteen (per-field work in the driver, and per
  // output column in PostgreSQL, was a measurable share of a read), and every driver
  // returns exactly the same text. Plain columns, not `date_part('epoch', t) * 1000`:
  // PostgreSQL sets up every output expression on each execution, and the five products
  // were a quarter of a read's instructions in the backend (docs/performance.md).
  const packed = (current: string, touchCall: string) =>
    `json_build_array(s.id, s.user_id, s.audience, s.version, s.remember,
       s.created_at, s.last_seen_at, s.authenticated_at, s.idle_expires_at, s.absolute_expires_at,
       ${current}, ${touchCall}, s.data)::text AS r`;
  const due = `s.last_seen_at <= ${NOW} - s.touch_after`;
  // Data writes: keys deleted ($n JSON array), then keys set ($n+1 JSON object) merged on
  // top, or everything replaced when the session was cleared ($n+2). Parallel requests
  // touching different keys keep each other's changes.
  // The usual write deletes nothing: that case skips unpacking the (empty) array.
  const merged = (p: number) =>
    `(CASE WHEN $${p + 2}::boolean THEN '{}'::jsonb WHEN $${p}::text = '[]' THEN s.data
       ELSE s.data - ARRAY(SELECT jsonb_array_elements_text($${p}::text::jsonb)) END) || $${p + 1}::text::jsonb`;

  return {
    // The read, and the idle-timeout extension when one is due, in ONE statement: a single
    // index lookup of the current token. The touch is a function (migration 003) called
    // from a CASE, so it runs only when due (a data-modifying CTE would make PostgreSQL
    // set up an UPDATE on every read), and it returns the new times. The plan is kept
    // flat on purpose: PostgreSQL initializes every node and expression of a plan on each
    // execution, and that, not the lookup, is most of what a read costs it.
    find: statement(
      "find",
      `SELECT ${packed("true", `CASE WHEN ${due} THEN ${touch}(s.id, ${NOW}) END`)}
         FROM ${t} s WHERE s.token_hash = $2::bytea AND ${live}`,
    ),
    // The same by the previous token inside its grace window: run only when `find` found
    // nothing (a rotated-away token, or an unknown or expired one). A token a login retired
    // comes back as `retired`, untouched, for the core to refuse.
    findPrevious: statement(
      "find_previous",
      `SELECT ${packed("false", `CASE WHEN NOT s.prev_login AND ${due} THEN ${touch}(s.id, ${NOW}) END`)}, s.prev_login AS retired
         FROM ${t} s WHERE ${previous} AND ${live}`,
    ),
    // A read with no side effect (the low-level store's get).
    peek: statement(
      "peek",
      `SELECT ${packed("s.token_hash = $2::bytea", "NULL")},
              (extract(epoch FROM s.idle_expires_at - ${NOW}) * 1000)::float8 AS expires_in
         FROM ${t} s WHERE ${match} AND ${live}`,
    ),
    // Creating is INSERT only: a token collision fails loudly instead of adopting a row.
    // Nothing comes back: the caller knows what it inserted. The clock and the durations
    // are computed once in a subquery that OFFSET 0 keeps from being flattened into the
    // target list, where each use was an expression PostgreSQL set up again (4 % of the
    // statement's instructions).
    insert: statement(
      "insert",
      `INSERT INTO ${t} AS s (id, token_hash, user_id, audience, data, remember, ip, user_agent,
              created_at, last_seen_at, authenticated_at, idle_timeout, touch_after,
              idle_expires_at, absolute_expires_at)
       SELECT $3::text, $2::bytea, $4::text, $5::text, $6::text::jsonb, $7::boolean, $8::text, $9::text,
              c.at, c.at, CASE WHEN $4::text IS NULL THEN NULL ELSE c.at END, c.idle, ${MS("$11")},
              c.at + least(c.idle, c.absolute), c.at + c.absolute
         FROM (SELECT ${NOW} AS at, ${MS("$10")} AS idle, ${MS("$12")} AS absolute OFFSET 0) c`,
    ),
    // The usual save: keys set (none deleted, not cleared, no compare-and-set) by the
    // current token. The fewest expressions PostgreSQL must set up on each execution; when
    // it matches nothing, `save` below decides (a grace-window token, or a session gone).
    saveMerge: statement(
      "save_merge",
      `UPDATE ${t} s SET data = s.data || $3::text::jsonb, version = s.version + 1
        WHERE s.token_hash = $2::bytea AND ${live}
       RETURNING s.version`,
    ),
    // Saving: only the changed keys, only on a live row, optionally compare-and-set. The
    // row is found by primary key, and the token (or its grace-window predecessor) must
    // still be its own.
    save: statement(
      "save",
      `UPDATE ${t} s SET data = ${merged(3)}, version = s.version + 1
        WHERE s.id = $7::text AND ${match} AND ${live} AND ($6::integer IS NULL OR s.version = $6::integer)
       RETURNING s.version`,
    ),
    // The same, for callers that know only the token (express-session's store).
    saveByToken: statement(
      "save_by_token",
      `UPDATE ${t} s SET data = ${merged(3)}, version = s.version + 1
        WHERE ${match} AND ${live} AND ($6::integer IS NULL OR s.version = $6::integer)
       RETURNING s.version`,
    ),
    // Rotation (and login, which is a rotation that binds a user): only the holder of the
    // CURRENT token may rotate, so there is exactly one successor.
    rotate: statement(
      "rotate",
      `UPDATE ${t} s SET
              token_hash = $3::bytea, prev_token_hash = s.token_hash,
              prev_expires_at = ${NOW} + ${MS("$4")}, prev_login = $8::boolean,
              data = ${merged(5)}, version = s.version + 1,
              user_id = CASE WHEN $8::boolean THEN $9::text ELSE s.user_id END,
              remember = CASE WHEN $8::boolean THEN $10::boolean ELSE s.remember END,
              authenticated_at = CASE WHEN $8::boolean THEN ${NOW} ELSE s.authenticated_at END,
              idle_timeout = CASE WHEN $8::boolean THEN ${MS("$11")} ELSE s.idle_timeout END,
              touch_after = CASE WHEN $8::boolean THEN ${MS("$12")} ELSE s.touch_after END,
              absolute_expires_at = CASE WHEN $8::boolean THEN ${NOW} + ${MS("$13")} ELSE s.absolute_expires_at END,
              idle_expires_at = CASE WHEN $8::boolean
                THEN least(${NOW} + ${MS("$11")}, ${NOW} + ${MS("$13")}) ELSE s.idle_expires_at END,
              last_seen_at = ${NOW},
              ip = CASE WHEN $8::boolean THEN coalesce($14::text, s.ip) ELSE s.ip END,
              user_agent = CASE WHEN $8::boolean THEN coalesce($15::text, s.user_agent) ELSE s.user_agent END
        WHERE s.token_hash = $2::bytea AND ${live}
       RETURNING ${packed("true", "NULL")}`,
    ),
    // The low-level store's set: replace the data, optionally reset the expiry.
    replace: statement(
      "replace",
      `UPDATE ${t} s SET data = $3::text::jsonb, version = s.version + 1,
              idle_timeout = coalesce(${MS("$4")}, s.idle_timeout),
              idle_expires_at = coalesce(${NOW} + ${MS("$4")}, s.idle_expires_at),
              absolute_expires_at = coalesce(${NOW} + ${MS("$4")}, s.absolute_expires_at)
        WHERE ${match} AND ${live}
       RETURNING s.version`,
    ),
    remove: statement("remove", `DELETE FROM ${t} s WHERE ${match} RETURNING s.id, s.user_id, s.audience`),
    // Ends a session but keeps its row, emptied and expired, until the next prune: for
    // stores that insert on first save (express-session), the row's token hash then blocks
    // a late save from re-creating the session.
    tombstone: statement(
      "tombstone",
      `UPDATE ${t} s SET data = '{}'::jsonb, user_id = NULL, prev_token_hash = NULL,
              idle_expires_at = ${NOW} - interval '1 millisecond', version = s.version + 1
        WHERE ${match} AND ${live}
       RETURNING s.id`,
    ),
    // After a write matched nothing: is the session gone, or was it a conflict? A token a
    // rotation or a login replaced meanwhile is a conflict (the session lives on), not "gone".
    probe: statement("probe", `SELECT s.version, s.token_hash = $2::bytea AS current FROM ${t} s WHERE ${known} AND ${live}`),
    listByUser: statement(
      "list_by_user",
      `SELECT s.id, s.audience, s.remember, s.ip, s.user_agent, s.created_at, s.last_seen_at,
              s.authenticated_at, s.idle_expires_at AS expires_at
         FROM ${t} s
        WHERE s.user_id = $2::text AND ($3::text IS NULL OR s.audience = $3::text) AND ${live}
        ORDER BY s.last_seen_at DESC, s.id`,
    ),
    revokeById: statement(
      "revoke_by_id",
      `DELETE FROM ${t} s WHERE s.id = $1::text RETURNING s.id, s.user_id, s.audience`,
    ),
    revokeByUser: statement(
      "revoke_by_user",
      `DELETE FROM ${t} s
        WHERE s.user_id = $1::text AND ($2::text IS NULL OR s.audience = $2::text)
          AND ($3::text IS NULL OR s.id <> $3::text)
          AND ($4::timestamptz IS NULL OR coalesce(s.authenticated_at, s.created_at) < $4::timestamptz)
       RETURNING s.id, s.user_id, s.audience`,
    ),
    // Pruning walks the primary key in bounded batches (no index on the expiry columns,
    // which would make every touch a non-HOT update) and deletes the expired rows of each
    // batch. The DELETE re-checks each row, so a session touched meanwhile survives.
    pruneBatch: statement(
      "prune_batch",
      `WITH batch AS (
         SELECT s.id FROM ${t} s WHERE s.id > $2::text ORDER BY s.id LIMIT $3::integer
       ), gone AS (
         DELETE FROM ${t} s USING batch b
          WHERE s.id = b.id AND (s.idle_expires_at <= ${NOW} OR s.absolute_expires_at <= ${NOW})
         RETURNING s.id, s.user_id, s.audience
       )
       SELECT (SELECT max(id) FROM batch) AS last_id,
              (SELECT count(*) FROM batch)::integer AS scanned,
              (SELECT count(*) FROM gone)::integer AS deleted,
              (SELECT coalesce(json_agg(json_build_array(g.id, g.user_id, g.audience)), '[]'::json) FROM gone g)::text AS expired`,
    ),
    pruneLock: statement("prune_lock", `SELECT pg_try_advisory_xact_lock(hashtext($1::text)) AS locked`),
    // Whole-table views for express-session's Store (all, length, clear), within an audience
    // when one is set ($2). Listing is bounded by $3 rows.
    listLive: statement(
      "list_live",
      `SELECT s.id, s.data, s.idle_expires_at AS expires_at
         FROM ${t} s WHERE ${live} AND ($2::text IS NULL OR s.audience = $2::text)
        ORDER BY s.id LIMIT $3::integer`,
    ),
    countLive: statement(
      "count_live",
      `SELECT count(*)::integer AS n FROM ${t} s WHERE ${live} AND ($2::text IS NULL OR s.audience = $2::text)`,
    ),
    removeAll: statement(
      "remove_all",
      `WITH gone AS (DELETE FROM ${t} s WHERE ($1::text IS NULL OR s.audience = $1::text) RETURNING 1)
       SELECT count(*)::integer AS n FROM gone`,
    ),
  };
}
