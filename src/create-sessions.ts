/**
 * `createSessions`: where the session manager meets the PostgreSQL store. The manager
 * knows only the table interface it needs; this composition root opens that table over
 * the driver the application gave (or an in-memory PGlite database).
 * @module
 */
import type { StoreDriver } from "./driver.js";
import { SessionConfigError } from "./errors.js";
import { cachedTable } from "./manager/cache/cached-table.js";
import { ReadCache } from "./manager/cache/read-cache.js";
import { resolveOptions, type ResolvedCache, type SessionsOptions } from "./manager/options.js";
import { SessionManager } from "./manager/manager.js";
import type { RegisteredSessionData } from "./session/register.js";
import { lazyDefaultDriver } from "./store/default-driver.js";
import { lazyChangeFeed } from "./store/lazy-change-feed.js";
import type { ListenConnection } from "./store/pg-change-feed.js";
import { openSessionTable } from "./store/session-table.js";

/**
 * Creates the session manager. Validates every option at once and throws
 * `SessionConfigError` naming the one at fault. `Data`, the type of the session data,
 * defaults to the one registered in `Register` (see `RegisteredSessionData`).
 *
 * @example
 * ```ts
 * import pg from "pg";
 * import { createSessions } from "pgsession";
 * import { pgStore } from "pgsession/pg";
 * const sessions = createSessions<{ cart: string[] }>({ store: pgStore(new pg.Pool()), idleTimeout: "2h" });
 * await sessions.migrate();
 * ```
 */
export function createSessions<Data extends object = RegisteredSessionData>(options: SessionsOptions = {}): SessionManager<Data> {
  const resolved = resolveOptions(options);
  if (options.store === undefined) warnEmbeddedInProduction();
  const names = { schema: resolved.schema, table: resolved.table };
  const driver = options.store ?? lazyDefaultDriver();
  const table = openSessionTable(driver, names, resolved.now, resolved.audience);
  if (resolved.cache === null) return new SessionManager<Data>(resolved, table);
  const feed = lazyChangeFeed(listenConnection(driver, resolved.cache), names, {
    heartbeatMs: resolved.cache.heartbeatMs,
    warn: (message) => console.warn(message),
  });
  const cache = new ReadCache(resolved.cache.maxEntries, resolved.now);
  return new SessionManager<Data>(resolved, cachedTable(table, cache, feed), cache);
}

/** Where the read cache listens: `cache.listen`, else the pg driver's own config; throws when neither is there. */
function listenConnection(driver: StoreDriver, cache: ResolvedCache): ListenConnection {
  if (driver.kind === "pglite") {
    throw new SessionConfigError("cache", "needs a PostgreSQL server: PGlite runs in one process, which needs no cache to share");
  }
  const connection = cache.listen ?? driver.clientConfig?.() ?? null;
  if (connection === null) {
    throw new SessionConfigError(
      "cache.listen",
      "is required with this store: give a connection string or a node-postgres Client config that reaches PostgreSQL directly",
    );
  }
  return connection as ListenConnection;
}

let warnedEmbedded = false;

/**
 * Warns once per process when a production app runs on the embedded database, as
 * express-session warns about its MemoryStore: its sessions die with the process and no
 * other instance sees them. A warning, not an error: a one-instance demo may mean it.
 */
function warnEmbeddedInProduction(): void {
  if (warnedEmbedded || typeof process === "undefined" || process.env?.NODE_ENV !== "production") return;
  warnedEmbedded = true;
  process.emitWarning(
    "createSessions() has no `store`: sessions live in an in-memory PGlite database, are lost on restart and are not shared " +
      "between instances. Pass `store: pgStore(pool)` (pgsession/pg) or `postgresStore(sql)` (pgsession/postgres) in production.",
    { code: "PGSESSION_NO_STORE" },
  );
}
