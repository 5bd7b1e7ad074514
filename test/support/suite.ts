/**
 * One suite body run against every database target: node-postgres and postgres.js on the
 * PostgreSQL server (skipped without one), and PGlite. Each run gets its own schema,
 * dropped afterwards.
 */
import { afterAll, beforeAll, describe } from "vitest";
import pg from "pg";
import postgres from "postgres";
import { createSessions, type Sessions } from "../../src/index.js";
import type { SessionsOptions } from "../../src/manager/options.js";
import type { StoreDriver } from "../../src/driver.js";
import { pgStore } from "../../src/store/pg.js";
import { postgresStore } from "../../src/store/postgres.js";
import { DATABASE_URL, hasPostgres, pgliteTarget, pgTarget, postgresJsTarget, uniqueSchema, type TestTarget } from "./db.js";

/** What a suite body reaches through `ctx()`. */
export interface SuiteContext {
  target: TestTarget;
  driver: StoreDriver;
  schema: string;
  /** A session manager on this target and schema (migrated by the suite). */
  sessions(options?: Omit<SessionsOptions, "store" | "schema">): Sessions;
  /** A driver over a pool of exactly one connection (PGlite has only one anyway). */
  openSingleConnection(): Promise<StoreDriver>;
}

const TARGETS = [
  { name: "pg", needsServer: true, make: pgTarget },
  { name: "postgres.js", needsServer: true, make: postgresJsTarget },
  { name: "pglite", needsServer: false, make: pgliteTarget },
] as const;

/** Runs `body` once per target, in a describe block named after it. */
export function describeEachTarget(title: string, body: (ctx: () => SuiteContext) => void): void {
  for (const spec of TARGETS) {
    describe.skipIf(spec.needsServer && !hasPostgres)(`${title} [${spec.name}]`, () => {
      let context: SuiteContext | undefined;
      const closers: Array<() => Promise<void>> = [];
      beforeAll(async () => {
        const target = spec.make();
        const driver = await target.open();
        const schema = uniqueSchema("sqlside");
        await createSessions({ store: driver, schema }).migrate();
        context = {
          target,
          driver,
          schema,
          sessions: (options = {}) => createSessions({ ...options, store: driver, schema }),
          async openSingleConnection() {
            if (spec.name === "pg") {
              const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
              pool.on("error", () => {}); // the owner listens to idle-connection errors (backends are killed on purpose)
              closers.push(() => pool.end());
              return pgStore(pool);
            }
            if (spec.name === "postgres.js") {
              const sql = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
              closers.push(() => sql.end());
              return postgresStore(sql);
            }
            return target.open();
          },
        };
      });
      afterAll(async () => {
        if (!context) return;
        for (const close of closers) await close();
        await context.target.sql(`DROP SCHEMA IF EXISTS "${context.schema}" CASCADE`);
        await context.target.end();
      });
      body(() => {
        if (!context) throw new Error("suite context used before beforeAll ran");
        return context;
      });
    });
  }
}

/** The token in a Set-Cookie value. */
export function tokenOf(setCookie: string | null): string {
  if (!setCookie) throw new Error("expected a Set-Cookie value");
  return setCookie.slice(setCookie.indexOf("=") + 1, setCookie.indexOf(";"));
}
