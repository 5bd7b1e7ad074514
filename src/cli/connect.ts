/**
 * Which database the CLI talks to, and the session manager over it. The CLI creates the
 * driver, so it owns the pool (or the PGlite database) and closes it when the command ends.
 * @module
 */
import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { createSessions, type Sessions, type SessionsOptions } from "../index.js";
import type { StoreDriver } from "../driver.js";
import { SessionConfigError } from "../errors.js";
import { CliUsageError, DEFAULT_DATA_DIR, type CommonValues } from "./args.js";

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

/**
 * The embedded database's directory holds no database: a command that only reads or
 * deletes reports it instead of creating a throwaway one (exit code 5).
 */
export class NoDatabaseError extends Error {
  /** Stable code, like the library's errors. */
  readonly code = "ERR_CLI_NO_DATABASE";

  constructor(directory: string) {
    super(`no database at ${directory}; nothing was created (pgsession migrate --pglite ${directory} creates one)`);
    this.name = "NoDatabaseError";
  }
}

/** How a command may use the embedded database. */
export interface TargetRules {
  /** With no database setting at all, use PGlite in ./.pgsession rather than refuse (the demo). */
  embeddedByDefault?: boolean;
  /** Create the PGlite database when its directory holds none (migrate, demo). */
  create?: boolean;
  /** Called once the target is chosen, before the database is opened (which takes seconds for PGlite). */
  beforeOpen?(target: Target): void;
}

/** Environment variables node-postgres reads on its own (libpq's names). */
const PG_VARIABLES = ["PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGPASSWORD"];

const EXAMPLE_URL = "postgres://user:password@localhost:5432/app";

/**
 * Checks a connection URL from `source` (the variable or the flag, named in the error).
 * Only the scheme is ever echoed back: the rest may hold a password.
 */
function checkUrl(url: string, source: string): void {
  const fail = (problem: string) =>
    new CliUsageError(
      `${source} ${problem}, e.g. ${source === "DATABASE_URL" ? `DATABASE_URL=${EXAMPLE_URL}` : `${source} ${EXAMPLE_URL}`}`,
    );
  if (url.trim() === "") throw fail("is empty: give a PostgreSQL URL");
  if (!/^postgres(ql)?:\/\//i.test(url)) {
    const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(url)?.[0];
    throw fail(`must be a postgres:// or postgresql:// URL${scheme ? `, not "${scheme}..."` : ""}`);
  }
  let parsed: URL;
  try {
    // node-postgres accepts an empty host after credentials ("user:pw@/db": the local socket).
    parsed = URL.canParse(url) ? new URL(url) : new URL(url.replace("@/", "@localhost/"));
  } catch {
    throw fail("cannot be parsed as a URL (in a password, @ : / # % must be percent-encoded)");
  }
  // node-postgres would silently drop everything after a "#", host and database included.
  if (parsed.hash !== "") throw fail('contains "#": percent-encode it as %23 (in a password, @ : / % too)');
}

/**
 * Decides the target: `--pglite [DIR]` (or `--data-dir DIR`), else `--database-url`, else
 * `DATABASE_URL`, else any PG* variable (node-postgres reads them), else, only for a command
 * whose rules say `embeddedByDefault` (the demo), PGlite in ./.pgsession. Anything else is a
 * usage error: an admin command never falls back to a throwaway database by accident.
 *
 * @example
 * ```ts
 * chooseTarget({ databaseUrl: undefined, dataDir: ".pgsession" }, {}, "/app"); // PGlite in /app/.pgsession
 * ```
 */
export function chooseTarget(
  common: Pick<CommonValues, "databaseUrl" | "dataDir">,
  env: NodeJS.ProcessEnv,
  cwd: string,
  rules: Pick<TargetRules, "embeddedByDefault"> = {},
): Target & { url?: string } {
  if (common.databaseUrl !== undefined && common.dataDir !== undefined) {
    throw new CliUsageError("give --database-url or --pglite, not both");
  }
  if (common.dataDir !== undefined) return { kind: "pglite", location: resolve(cwd, common.dataDir) };
  const [url, source] = common.databaseUrl !== undefined ? [common.databaseUrl, "--database-url"] : [env.DATABASE_URL, "DATABASE_URL"];
  if (url !== undefined) {
    checkUrl(url, source);
    return { kind: "postgresql", location: redact(url), url };
  }
  if (PG_VARIABLES.some((name) => env[name])) {
    const host = env.PGHOST ?? env.PGHOSTADDR ?? "localhost";
    return { kind: "postgresql", location: `PG* variables (${host}:${env.PGPORT ?? "5432"}/${env.PGDATABASE ?? env.PGUSER ?? ""})` };
  }
  if (rules.embeddedByDefault === true) return { kind: "pglite", location: resolve(cwd, DEFAULT_DATA_DIR) };
  throw new CliUsageError(
    `no database given: set DATABASE_URL (e.g. DATABASE_URL=${EXAMPLE_URL}) or pass --database-url URL; ` +
      `--pglite [DIR] uses the embedded PGlite database in DIR (default ./${DEFAULT_DATA_DIR}) instead`,
  );
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

/**
 * Opens the driver for a target; drivers are loaded only when used. A PGlite directory
 * without a database (PostgreSQL's PG_VERSION file marks one) is created only with `create`.
 */
export async function openDriver(target: Target & { url?: string }, options: { create?: boolean } = {}): Promise<StoreDriver> {
  if (target.kind === "pglite") {
    if (!existsSync(join(target.location, "PG_VERSION"))) {
      if (options.create !== true) throw new NoDatabaseError(target.location);
      mkdirSync(target.location, { recursive: true });
    }
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
 * Creates the session manager a command works with, on the target {@link chooseTarget}
 * picks under `rules`. The caller must `close()` it.
 *
 * @example
 * ```ts
 * const { sessions, target } = await openSessions(common, process.env, process.cwd(), {}, { create: true });
 * try { await sessions.migrate(); } finally { await sessions.close(); }
 * ```
 */
export async function openSessions<Data extends Record<string, unknown> = Record<string, unknown>>(
  common: CommonValues,
  env: NodeJS.ProcessEnv,
  cwd: string,
  options: Omit<SessionsOptions, "store" | "schema" | "table"> = {},
  rules: TargetRules = {},
): Promise<{ sessions: Sessions<Data>; target: Target }> {
  const target = chooseTarget(common, env, cwd, rules);
  rules.beforeOpen?.({ kind: target.kind, location: target.location });
  const driver = await openDriver(target, rules.create === undefined ? {} : { create: rules.create });
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
