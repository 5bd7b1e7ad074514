/**
 * `createSessions`: where the session manager meets the PostgreSQL store. The manager
 * knows only the table interface it needs; this composition root opens that table over
 * the driver the application gave (or an in-memory PGlite database).
 * @module
 */
import { resolveOptions, type SessionsOptions } from "./manager/options.js";
import { SessionManager } from "./manager/manager.js";
import type { RegisteredSessionData } from "./session/register.js";
import { lazyDefaultDriver } from "./store/default-driver.js";
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
  const table = openSessionTable(options.store ?? lazyDefaultDriver(), names, resolved.now, resolved.audience);
  return new SessionManager<Data>(resolved, table);
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
