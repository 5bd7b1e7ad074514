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
export { createSessions, Sessions, type CommitOptions, type UserSession } from "./manager/manager.js";
export { Session, type SessionData, type LoginOptions, type RequestContext } from "./session/session.js";
export type { SessionsOptions, TimeoutOptions, ResolvedOptions } from "./manager/options.js";
export type { CookieOptions, CookiePolicy } from "./session/cookie.js";
export { readCookie, serializeSessionCookie, createCookiePolicy } from "./session/cookie.js";
export type { Duration } from "./lib/duration.js";
export { parseDuration } from "./lib/duration.js";
export { TokenStore, type StoredSession } from "./manager/token-store.js";
export { generateToken, hashToken, isWellFormedToken } from "./session/token.js";
export type { StoreDriver, Queryable, Statement, Row } from "./store/driver.js";
export type { SessionSummary } from "./store/session-store.js";
export * from "./errors.js";
export { countSessions, sessionStats, sessionTableExists, type TableCounts, type SessionStats } from "./store/admin.js";
export type { SessionSql } from "./store/session-sql.js";
export type { SessionEvent, SessionEventMap, SessionEventName, SessionEventListener, RevokeReason } from "./session/events.js";
export type { EncryptionOptions, EncryptionKey } from "./session/encryption.js";
export { requireRecentLogin, isRecentLogin } from "./session/step-up.js";
