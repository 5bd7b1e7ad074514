/**
 * Which database the CLI talks to, and the session manager over it. The CLI creates the
 * driver, so it owns the pool (or the PGlite database) and closes it when the command ends.
 * @module
 */
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { createSessions, type Sessions, type SessionsOptions } from "../index.js";
import type { StoreDriver } from "../driver.js";
import { SessionConfigError } from "../errors.js";
import type { CommonValues } from "./args.js";

// The drivers are optional peer dependencies: say which package to install.
async function load<T>(what: () => Promise<T>, pkg: string): Promise<T> {
  try {
    return await what();
  } catch (err) {
    if ((err as { code?: string }).code === "ERR_MODULE_NOT_FOUND" && String((err as Error).message).includes(pkg)) {
      throw new SessionConfigError("store", `this database needs the ${pkg} package: npm install ${pkg}`);
    }
    throw err;
  }
}

/** Where the sessions live, as shown to the user (never with a password). */
export interface Target {
  kind: "postgresql" | "pglite";
  /** A URL without its password, or the PGlite directory. */
  location: string;
}

/** Environment variables node-postgres reads on its own (libpq's names). */
const PG_VARIABLES = ["PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGPASSWORD"];

/** The default PGlite directory, relative to the working directory. */
export const DEFAULT_DATA_DIR = ".pgsession";

/**
 * Decides the target: `--database-url`, else `DATABASE_URL`, else any PG* variable (node-postgres
 * reads them), else the embedded PGlite database in `--data-dir` (default `./.pgsession`).
 *
 * @example
 * ```ts
 * chooseTarget({ databaseUrl: undefined, dataDir: undefined }, {}, "/app"); // PGlite in /app/.pgsession
 * ```
 */
export function chooseTarget(
  common: Pick<CommonValues, "databaseUrl" | "dataDir">,
  env: NodeJS.ProcessEnv,
  cwd: string,
): Target & { url?: string } {
  const url = common.databaseUrl ?? (env.DATABASE_URL || undefined);
  if (url !== undefined && common.dataDir === undefined) return { kind: "postgresql", location: redact(url), url };
  if (common.dataDir === undefined && PG_VARIABLES.some((name) => env[name])) {
    const host = env.PGHOST ?? env.PGHOSTADDR ?? "localhost";
    return { kind: "postgresql", location: `PG* variables (${host}:${env.PGPORT ?? "5432"}/${env.PGDATABASE ?? env.PGUSER ?? ""})` };
  }
  return { kind: "pglite", location: resolve(cwd, common.dataDir ?? DEFAULT_DATA_DIR) };
}

/** A connection URL with its password replaced by `***`. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparsable URL)";
  }
}

/** Opens the driver for a target; drivers are loaded only when used. */
export async function openDriver(target: Target & { url?: string }): Promise<StoreDriver> {
  if (target.kind === "pglite") {
    mkdirSync(target.location, { recursive: true });
    const { pgliteStore } = await load(() => import("../store/pglite.js"), "@electric-sql/pglite");
    return pgliteStore(target.location);
  }
  const { pgStore } = await load(() => import("../store/pg.js"), "pg");
  return pgStore({
    ...(target.url !== undefined && { connectionString: target.url }),
    max: 4,
    connectionTimeoutMillis: 10_000,
    application_name: "pgsession-cli",
    // A command runs each statement a few times at most: preparing gains nothing, and
    // unnamed statements work through a pooler in transaction mode too (DATABASE_URL may name one).
    preparedStatements: false,
    // A CLI run is short: an idle connection dropping is not worth a warning per command.
    onError: () => {},
  });
}

/**
 * Creates the session manager a command works with. The caller must `close()` it.
 *
 * @example
 * ```ts
 * const { sessions, target } = await openSessions(common, process.env, process.cwd());
 * try { await sessions.migrate(); } finally { await sessions.close(); }
 * ```
 */
export async function openSessions<Data extends Record<string, unknown> = Record<string, unknown>>(
  common: CommonValues,
  env: NodeJS.ProcessEnv,
  cwd: string,
  options: Omit<SessionsOptions, "store" | "schema" | "table"> = {},
): Promise<{ sessions: Sessions<Data>; target: Target }> {
  const target = chooseTarget(common, env, cwd);
  const driver = await openDriver(target);
  try {
    const sessions = createSessions<Data>({
      ...options,
      store: driver,
      ...(common.schema !== undefined && { schema: common.schema }),
      ...(common.table !== undefined && { table: common.table }),
    });
    return { sessions, target: { kind: target.kind, location: target.location } };
  } catch (err) {
    await driver.close();
    throw err;
  }
}
