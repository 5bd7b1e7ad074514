/**
 * Test databases: the real PostgreSQL server (DATABASE_URL, else 127.0.0.1:5432/test) and
 * PGlite. Every suite works in a schema of its own, dropped afterwards.
 *
 * When the server is unreachable, PostgreSQL suites are skipped with a printed reason,
 * unless PGSESSION_REQUIRE_POSTGRES=1 (CI), where they fail.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import postgres from "postgres";
import { PGlite } from "@electric-sql/pglite";
import type { StoreDriver } from "../../src/driver.js";
import { pgStore } from "../../src/store/pg.js";
import { postgresStore } from "../../src/store/postgres.js";
import { pgliteStore } from "../../src/store/pglite.js";
import { DATABASE_URL } from "./database-url.js";

export { DATABASE_URL };
export const REQUIRE_POSTGRES = process.env.PGSESSION_REQUIRE_POSTGRES === "1";

let reachable: Promise<boolean> | undefined;

/** Whether the PostgreSQL server answers; logs why not, and throws if it is required. */
export function postgresAvailable(): Promise<boolean> {
  reachable ??= (async () => {
    const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query("SELECT 1");
      return true;
    } catch (err) {
      if (REQUIRE_POSTGRES)
        throw new Error(`PGSESSION_REQUIRE_POSTGRES=1 but PostgreSQL at ${DATABASE_URL} is unreachable: ${(err as Error).message}`, {
          cause: err,
        });
      console.warn(
        `SKIPPING PostgreSQL suites: ${DATABASE_URL} unreachable (${(err as Error).message}). Set PGSESSION_REQUIRE_POSTGRES=1 to fail instead.`,
      );
      return false;
    } finally {
      await client.end().catch(() => {});
    }
  })();
  return reachable;
}

/** Synchronous answer for `describe.skipIf`, computed once at import (top-level await). */
export const hasPostgres: boolean = await postgresAvailable();

/** A unique schema name for one suite. */
export function uniqueSchema(prefix = "t"): string {
  return `${prefix}_${randomBytes(5).toString("hex")}`;
}

/** A database target: how to make a driver, and how to clean up after. */
export interface TestTarget {
  name: string;
  needsServer: boolean;
  /**
   * A new driver; the target owns the underlying client. With `settings`, its
   * connections start with those run-time parameters (`{ TimeZone: "Asia/Kathmandu" }`);
   * on PGlite that is a database of its own, since its one connection is shared.
   */
  open(settings?: Record<string, string>): Promise<StoreDriver>;
  /** Runs raw SQL for assertions (not through pgsession). */
  sql(text: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  /** Ends every client opened. */
  end(): Promise<void>;
}

/** node-postgres on the real server. */
export function pgTarget(): TestTarget {
  const pools: pg.Pool[] = [];
  const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  admin.on("error", () => {}); // the owner listens to idle-connection errors (backends are killed on purpose)
  return {
    name: "pg",
    needsServer: true,
    async open(settings) {
      const options =
        settings &&
        Object.entries(settings)
          .map(([name, value]) => `-c ${name}=${value.replace(/[\\ ]/g, "\\$&")}`)
          .join(" ");
      const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 10, options });
      pool.on("error", () => {}); // the owner listens to idle-connection errors (backends are killed on purpose)
      pools.push(pool);
      return pgStore(pool);
    },
    async sql(text, params = []) {
      return (await admin.query(text, params)).rows;
    },
    async end() {
      await Promise.all([...pools.map((p) => p.end()), admin.end()]);
    },
  };
}

/** postgres.js on the real server. */
export function postgresJsTarget(): TestTarget {
  const clients: postgres.Sql[] = [];
  const admin = postgres(DATABASE_URL, { max: 2, onnotice: () => {} });
  return {
    name: "postgres.js",
    needsServer: true,
    async open(settings) {
      const sql = postgres(DATABASE_URL, { max: 10, onnotice: () => {}, connection: settings ?? {} });
      clients.push(sql);
      return postgresStore(sql);
    },
    async sql(text, params = []) {
      return [...(await admin.unsafe(text, params as never[]))];
    },
    async end() {
      await Promise.all([...clients.map((c) => c.end()), admin.end()]);
    },
  };
}

/** PGlite in memory: one database shared by every driver the target opens. */
export function pgliteTarget(): TestTarget {
  const db = new PGlite();
  const own: PGlite[] = [];
  return {
    name: "pglite",
    needsServer: false,
    async open(settings) {
      if (!settings) return pgliteStore(db);
      const separate = new PGlite();
      own.push(separate);
      for (const [name, value] of Object.entries(settings)) await separate.query("SELECT set_config($1, $2, false)", [name, value]);
      return pgliteStore(separate);
    },
    async sql(text, params = []) {
      return (await db.query<Record<string, unknown>>(text, params)).rows;
    },
    async end() {
      await Promise.all([...own.map((d) => d.close()), db.close()]);
    },
  };
}

/** A target to run a suite against; `make` is called inside the suite, never at import. */
export interface TargetKind {
  name: string;
  needsServer: boolean;
  make: () => TestTarget;
  /** Why the target cannot run here, when it cannot (pgbouncer missing): its suites are skipped. */
  unavailable?: string;
}

/**
 * Whether a target's suites run here: the server answers if it needs one, and nothing else
 * it needs is missing.
 *
 * @example
 * ```ts
 * describe.skipIf(!canRun(kind))(`store contract on ${kind.name}`, () => { ... });
 * ```
 */
export function canRun(kind: TargetKind): boolean {
  return (!kind.needsServer || hasPostgres) && kind.unavailable === undefined;
}

/** Every target, in the order suites run them. */
export const allTargets: TargetKind[] = [
  { name: "pg", needsServer: true, make: pgTarget },
  { name: "postgres.js", needsServer: true, make: postgresJsTarget },
  { name: "pglite", needsServer: false, make: pgliteTarget },
];

/** A controllable clock for timeout tests. */
export function fakeClock(start = new Date("2030-01-01T00:00:00Z")) {
  let now = start.getTime();
  return {
    now: () => new Date(now),
    advance(ms: number) {
      now += ms;
    },
    set(date: Date) {
      now = date.getTime();
    },
  };
}
