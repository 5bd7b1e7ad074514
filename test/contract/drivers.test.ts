/**
 * Drivers: who owns the pool, what a database failure looks like, and that connection
 * errors never crash the process.
 */
import net from "node:net";
import pg from "pg";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { createSessions } from "../../src/index.js";
import { SessionStoreError } from "../../src/errors.js";
import { pgStore } from "../../src/store/pg.js";
import { postgresStore } from "../../src/store/postgres.js";
import { DATABASE_URL, hasPostgres, uniqueSchema } from "../support/db.js";

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("default store", () => {
  it("is an in-memory PGlite database when no store is given", async () => {
    const sessions = createSessions();
    expect(sessions.table.driver).toBe("pglite");
    await sessions.migrate();
    const s = await sessions.resolve(undefined);
    s.set("k", "v");
    const cookie = (await sessions.commit(s))!.split(";")[0]!;
    expect((await sessions.resolve(cookie)).get("k")).toBe("v");
    await sessions.close();
  });
});

describe("database failures", () => {
  it("an unreachable server throws SessionStoreError from resolve, commit and migrate: never 'no session'", async () => {
    const port = await closedPort();
    const sessions = createSessions({ store: pgStore({ host: "127.0.0.1", port, user: "postgres", connectionTimeoutMillis: 2000 }) });
    const cookie = `session=${"A".repeat(42)}E`;
    const error = await sessions.resolve(cookie).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(SessionStoreError);
    expect((error as SessionStoreError).code).toBe("ERR_SESSION_STORE");
    expect((error as SessionStoreError).cause).toBeInstanceOf(Error);
    expect(String((error as Error).message)).not.toContain("A".repeat(42));
    await expect(sessions.migrate()).rejects.toBeInstanceOf(SessionStoreError);
    const fresh = await sessions.resolve(undefined); // no cookie: no query at all
    fresh.set("k", 1);
    await expect(sessions.commit(fresh)).rejects.toBeInstanceOf(SessionStoreError);
    await sessions.close();
  });
});

describe.skipIf(!hasPostgres)("drivers on PostgreSQL", () => {
  const schema = uniqueSchema("drv");
  const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
  afterAll(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });

  it("keeps the SQLSTATE of a failed statement", async () => {
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
    const sessions = createSessions({ store: pgStore(pool), schema: uniqueSchema("nomig") });
    const error = await sessions.resolve(`session=${"A".repeat(42)}E`).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(SessionStoreError);
    expect((error as SessionStoreError).sqlState).toBe("42P01"); // undefined_table: migrate() was not run
    await sessions.close();
    await pool.end();
  });

  it("never ends a pool passed in; ends the pool it created", async () => {
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
    const borrowed = createSessions({ store: pgStore(pool), schema });
    await borrowed.migrate();
    await borrowed.close();
    expect(pool.ended).toBe(false);
    expect((await pool.query("SELECT 1 AS one")).rows[0].one).toBe(1);
    await pool.end();

    const sql = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
    const viaPostgresJs = createSessions({ store: postgresStore(sql), schema });
    await viaPostgresJs.migrate();
    await viaPostgresJs.close();
    expect((await sql`SELECT 1 AS one`)[0]?.one).toBe(1);
    await sql.end();

    const owned = pgStore({ connectionString: DATABASE_URL, max: 1 });
    const own = createSessions({ store: owned, schema });
    await own.migrate();
    await own.close();
    await expect(owned.query({ name: "after_close", text: "SELECT 1" }, [])).rejects.toThrow(/end/i);
  });

  it("survives the server killing its idle connections, and recovers", async () => {
    const warnings: Error[] = [];
    const store = pgStore({
      connectionString: DATABASE_URL,
      max: 2,
      application_name: "pgsession-kill-test",
      onError: (err) => warnings.push(err),
    });
    const sessions = createSessions({ store, schema });
    await sessions.migrate();
    const s = await sessions.resolve(undefined);
    s.set("k", 1);
    const cookie = (await sessions.commit(s))!.split(";")[0]!;
    const killed = await admin.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pgsession-kill-test' AND pid <> pg_backend_pid()",
    );
    expect(killed.rowCount).toBeGreaterThan(0);
    for (let i = 0; i < 50 && warnings.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(warnings.length).toBeGreaterThan(0); // reported, not thrown: the process is still here
    expect((await sessions.resolve(cookie)).get("k")).toBe(1);
    await sessions.close();
  });
});
