/**
 * pgsession: server-side HTTP sessions stored in PostgreSQL.
 *
 * @example
 * ```ts
 * import { createSessions } from "pgsession";
 * import { pgStore } from "pgsession/pg";
 * const sessions = createSessions({ store: pgStore({ connectionString: process.env.DATABASE_URL }) });
 * await sessions.migrate();
 * ```
 * @module
 */
export { createSessions, Sessions, type CommitOptions, type UserSession } from "./core/sessions.js";
export { Session, type SessionData, type LoginOptions, type RequestContext } from "./core/session.js";
export type { SessionsOptions, TimeoutOptions, ResolvedOptions } from "./core/options.js";
export type { CookieOptions, CookiePolicy } from "./core/cookie.js";
export { readCookie, serializeSessionCookie, createCookiePolicy } from "./core/cookie.js";
export type { Duration } from "./core/duration.js";
export { parseDuration } from "./core/duration.js";
export { TokenStore, type StoredSession } from "./core/token-store.js";
export { generateToken, hashToken, isWellFormedToken } from "./core/token.js";
export type { StoreDriver, Queryable, Statement, Row } from "./store/driver.js";
export type { SessionSummary } from "./store/session-store.js";
export * from "./core/errors.js";
export { countSessions, sessionStats, sessionTableExists, type TableCounts, type SessionStats } from "./store/admin.js";
export type { SessionSql } from "./store/session-sql.js";
export type { SessionEvent, SessionEventMap, SessionEventName, SessionEventListener, RevokeReason } from "./core/events.js";
export type { EncryptionOptions, EncryptionKey } from "./core/encryption.js";
export { requireRecentLogin, isRecentLogin } from "./core/step-up.js";
