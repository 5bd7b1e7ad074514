/**
 * Test targets through the run's private pgbouncer (started by `pgbouncer-setup.ts`):
 * node-postgres and postgres.js in transaction mode, each sending its statements unnamed,
 * as the README tells users behind such a pooler. Assertions (`target.sql`) go to the
 * server directly.
 *
 * Without pgbouncer these targets are skipped with a printed reason, unless
 * PGSESSION_REQUIRE_POSTGRES=1 (CI), where importing this module fails.
 */
import pg from "pg";
import postgres from "postgres";
import { inject } from "vitest";
import type { StoreDriver } from "../../src/driver.js";
import { pgStore } from "../../src/store/pg.js";
import { postgresStore } from "../../src/store/postgres.js";
import { DATABASE_URL, REQUIRE_POSTGRES, type TargetKind, type TestTarget } from "./db.js";
import type { ProvidedPgbouncer } from "./pgbouncer-setup.js";

/** The pgbouncer aliases (see POOLED_DATABASES in `pgbouncer-setup.ts`). */
export type PooledAlias = "pooled" | "pooled_single" | "pooled_session";

const provided: ProvidedPgbouncer = inject("pgbouncer") ?? {
  urls: null,
  reason: "this vitest config starts no pgbouncer (globalSetup test/support/pgbouncer-setup.ts)",
};

if (provided.urls === null) {
  if (REQUIRE_POSTGRES) throw new Error(`PGSESSION_REQUIRE_POSTGRES=1 but the pgbouncer suites cannot run: ${provided.reason}`);
  console.warn(`SKIPPING pgbouncer suites: ${provided.reason}. Set PGSESSION_REQUIRE_POSTGRES=1 to fail instead.`);
}

/** Why the pgbouncer suites cannot run here, or undefined when they can. */
export const pgbouncerUnavailable: string | undefined = provided.urls === null ? (provided.reason ?? "no pgbouncer") : undefined;

/**
 * The URL of a pgbouncer alias (throws when pgbouncer is not running: call it inside a
 * suite that {@link pgbouncerUnavailable} skips).
 *
 * @example
 * ```ts
 * const pool = new pg.Pool({ connectionString: pgbouncerUrl("pooled_single"), max: 2 });
 * ```
 */
export function pgbouncerUrl(alias: PooledAlias): string {
  const url = provided.urls?.[alias];
  if (url === undefined) throw new Error(`no pgbouncer alias ${alias}: ${provided.reason}`);
  return url;
}

/** SET statements for run-time settings (pgbouncer accepts no `options` startup packet; it re-applies TimeZone and DateStyle itself). */
function setStatements(settings: Record<string, string>): string {
  return Object.entries(settings)
    .map(([name, value]) => `SET ${name} = '${value.replaceAll("'", "''")}'`)
    .join("; ");
}

/** node-postgres through pgbouncer in transaction mode, statements unnamed. */
export function pgbouncerPgTarget(): TestTarget {
  const pools: pg.Pool[] = [];
  const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  admin.on("error", () => {});
  return {
    name: "pg via pgbouncer",
    needsServer: true,
    async open(settings): Promise<StoreDriver> {
      const pool = new pg.Pool({ connectionString: pgbouncerUrl("pooled"), max: 10 });
      pool.on("error", () => {});
      // pgbouncer tracks TimeZone and DateStyle per client and sets them on whichever server connection serves it.
      if (settings) pool.on("connect", (client) => void client.query(setStatements(settings)).catch(() => {}));
      pools.push(pool);
      return pgStore(pool, { preparedStatements: false });
    },
    async sql(text, params = []) {
      return (await admin.query(text, params)).rows;
    },
    async end() {
      await Promise.all([...pools.map((p) => p.end()), admin.end()]);
    },
  };
}

/** postgres.js through pgbouncer in transaction mode, created with `prepare: false`. */
export function pgbouncerPostgresJsTarget(): TestTarget {
  const clients: postgres.Sql[] = [];
  const admin = postgres(DATABASE_URL, { max: 2, onnotice: () => {} });
  return {
    name: "postgres.js via pgbouncer",
    needsServer: true,
    async open(settings) {
      // TimeZone and DateStyle are startup parameters pgbouncer accepts and keeps per client.
      const sql = postgres(pgbouncerUrl("pooled"), { max: 10, prepare: false, onnotice: () => {}, connection: settings ?? {} });
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

/** The targets through pgbouncer in transaction mode, for the suites that also run on the direct ones. */
export const pooledTargets: TargetKind[] = [
  { name: "pg via pgbouncer (transaction mode)", needsServer: true, make: pgbouncerPgTarget },
  { name: "postgres.js via pgbouncer (transaction mode)", needsServer: true, make: pgbouncerPostgresJsTarget },
].map((kind) => (pgbouncerUnavailable === undefined ? kind : { ...kind, unavailable: pgbouncerUnavailable }));
