/**
 * pgsession: server-side HTTP sessions stored in PostgreSQL.
 *
 * The root exports what applications call: `createSessions` and the session manager it
 * returns, the `Session` object, the option and result types, the errors, and a few token
 * helpers. Drivers are in `pgsession/pg`, `pgsession/postgres` and `pgsession/pglite`;
 * adapters in `pgsession/node`, `/express`, `/express-session`, `/fastify`, `/hono`, `/fetch`.
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
export { createSessions } from "./create-sessions.js";
export { installScript, shippedMigrations, type InstallScriptOptions, type ShippedMigration } from "./store/install-script.js";
export { SessionManager, Sessions } from "./manager/manager.js";
export type { CommitOptions } from "./manager/commit.js";
export type { UserSession } from "./manager/users.js";
export type { CacheStatus } from "./manager/cache/read-cache.js";
export type { PruneOptions, BackgroundPruneOptions, BackgroundPrune, PruneProgress } from "./manager/prune.js";
export type { SessionsOptions, TimeoutOptions, ResolvedOptions, CacheOptions, ResolvedCache } from "./manager/options.js";
export type { TokenStore, StoredSession } from "./manager/token-store.js";
export { Session, type SessionData, type LoginOptions, type LogoutOptions, type RequestContext } from "./session/session.js";
export type { CookieOptions, CookiePolicy } from "./session/cookie.js";
export type { TimeoutPolicy } from "./session/timeouts.js";
export type { TrustProxy } from "./session/request-context.js";
export type { SessionEvent, SessionEventMap, SessionEventName, SessionEventListener, RevokeReason } from "./session/events.js";
export type { EncryptionOptions, EncryptionKey } from "./session/encryption.js";
export type { SessionSql, SessionSummary, TableCounts, SessionStats, MigrationStatus } from "./session/table.js";
export { hashToken, isWellFormedToken, type RandomBytes } from "./session/token.js";
export { requireRecentLogin, isRecentLogin } from "./session/step-up.js";
export type { Register, RegisteredSessionData } from "./session/register.js";
export type { Duration } from "./lib/duration.js";
export type { StoreDriver, Queryable, Statement, Row } from "./driver.js";
export * from "./errors.js";
