/**
 * Behind pgbouncer (the run's private one, see test/support/pooler.ts). In transaction mode
 * a client gets whichever server connection is free for each transaction, and with
 * `pooled_single` every client shares the one server connection, which makes both what
 * breaks and what must not leak deterministic:
 * - named statements fail there, and the error names the option that fixes it;
 * - with the option, nothing is prepared on the server connection;
 * - sessions.transaction()'s settings (set_config(..., true)) end with the transaction: the
 *   next client on the same server connection sees no session, and RLS shows it nothing;
 * - session mode keeps named statements.
 * The whole store and adapter contracts also run through it (store-contract.test.ts, adapters/contract.ts).
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSessions, shippedMigrations, type Sessions } from "../../src/index.js";
import { SessionConfigError, SessionStoreError } from "../../src/errors.js";
import type { StoreDriver } from "../../src/driver.js";
import { pgStore } from "../../src/store/pg.js";
import { postgresStore } from "../../src/store/postgres.js";
import { cleanEnv, runCli } from "../support/cli.js";
import { DATABASE_URL, hasPostgres, uniqueSchema } from "../support/db.js";
import { pgbouncerUnavailable, pgbouncerUrl } from "../support/pooler.js";

const skip = !hasPostgres || pgbouncerUnavailable !== undefined;

describe("preparedStatements option checks", () => {
  it("pgStore and postgresStore take only true or false", () => {
    expect(() => pgStore({ connectionString: DATABASE_URL, preparedStatements: "no" as never })).toThrow(SessionConfigError);
    const sql = postgres(DATABASE_URL, { max: 1 });
    expect(() => postgresStore(sql, { preparedStatements: 0 as never })).toThrow(SessionConfigError);
  });

  it("postgresStore refuses preparedStatements: true on an instance created with prepare: false, which prepares nothing", () => {
    const sql = postgres(DATABASE_URL, { max: 1, prepare: false });
    const error = (() => {
      try {
        postgresStore(sql, { preparedStatements: true });
      } catch (err) {
        return err;
      }
    })();
    expect(error).toBeInstanceOf(SessionConfigError);
    expect((error as SessionConfigError).option).toBe("preparedStatements");
    expect((error as Error).message).toMatch(/prepare: false/);
    expect(() => postgresStore(sql)).not.toThrow();
    expect(() => postgresStore(sql, { preparedStatements: false })).not.toThrow();
  });
});

describe.skipIf(skip)("through pgbouncer, one server connection shared by every client", () => {
  const schema = uniqueSchema("pooler");
  const role = `pgs_pool_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
  const closers: Array<() => Promise<void>> = [];
  let single: string;

  /** A pg pool of `max` clients on an alias, ended after the suite. */
  function pgPool(url: string, max: number, Client?: typeof pg.Client): pg.Pool {
    const pool = new pg.Pool({ connectionString: url, max, ...(Client && { Client }) });
    pool.on("error", () => {});
    closers.push(() => pool.end());
    return pool;
  }

  /** A postgres.js instance on an alias, ended after the suite. */
  function postgresJs(url: string, options: postgres.Options<Record<string, never>> = {}): postgres.Sql {
    const sql = postgres(url, { max: 2, onnotice: () => {}, ...options });
    closers.push(() => sql.end());
    return sql;
  }

  /** The names of the statements prepared on the shared server connection (read through another client). */
  async function preparedOnServer(): Promise<string[]> {
    const observer = pgPool(single, 1);
    const rows = await observer.query<{ name: string }>(
      "SELECT name FROM pg_prepared_statements WHERE name LIKE 'pgsession%' ORDER BY name",
    );
    return rows.rows.map((row) => row.name);
  }

  /** A stored session's cookie, made on `sessions`. */
  async function storedCookie(sessions: Sessions, userId: string | null = null): Promise<string> {
    const session = await sessions.resolve(undefined);
    session.set("n", 1);
    if (userId !== null) await session.login(userId);
    return (await sessions.commit(session))!.split(";")[0]!;
  }

  /** A workload of several clients at once: reads, writes, a login in a transaction. */
  async function workload(sessions: Sessions): Promise<void> {
    const cookie = await storedCookie(sessions);
    await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const session = await sessions.resolve(cookie);
        session.set(`k${i}`, i);
        await sessions.commit(session);
      }),
    );
    const read = await sessions.resolve(cookie);
    expect(read.keys()).toHaveLength(13);
    await read.login("user-1");
    const next = (await sessions.commit(read))!.split(";")[0]!;
    expect((await sessions.resolve(next)).userId).toBe("user-1");
  }

  beforeAll(async () => {
    single = pgbouncerUrl("pooled_single");
    // Migrated directly: what is under test is the traffic through the pooler.
    const direct = createSessions({ store: pgStore(admin), schema, prune: false });
    await direct.migrate();
    await admin.query(`CREATE ROLE ${role} NOLOGIN`);
    await admin.query(`CREATE TABLE "${schema}".notes (owner text NOT NULL, body text NOT NULL)`);
    await admin.query(`ALTER TABLE "${schema}".notes ENABLE ROW LEVEL SECURITY`);
    await admin.query(`CREATE POLICY own_notes ON "${schema}".notes USING (owner = "${schema}".user_id())`);
    await admin.query(`GRANT USAGE ON SCHEMA "${schema}" TO ${role}`);
    await admin.query(`GRANT SELECT ON "${schema}".notes TO ${role}`);
    await admin.query(`INSERT INTO "${schema}".notes VALUES ('alice', 'a1'), ('bob', 'b1')`);
    // Whatever an earlier run left prepared on the shared server connection.
    await pgPool(single, 1).query("DEALLOCATE ALL");
  });

  afterAll(async () => {
    for (const close of closers) await close().catch(() => {});
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.query(`DROP ROLE IF EXISTS ${role}`);
    await admin.end();
  });

  describe.each([
    { driver: "pg", open: (): StoreDriver => pgStore(pgPool(single, 3), { preparedStatements: false }) },
    // Clients of another pg (here a subclass) get pg's config objects rather than the fast path: unnamed there too.
    {
      driver: "pg, config objects",
      open: (): StoreDriver => pgStore(pgPool(single, 3, class extends pg.Client {}), { preparedStatements: false }),
    },
    { driver: "postgres.js", open: (): StoreDriver => postgresStore(postgresJs(single, { prepare: false })) },
  ])("$driver with statements unnamed", ({ open }) => {
    it("serves several clients at once and prepares nothing on the server connection", async () => {
      await pgPool(single, 1).query("DEALLOCATE ALL");
      const sessions = createSessions({ store: open(), schema, prune: false });
      await workload(sessions);
      expect(await preparedOnServer()).toEqual([]);
    });

    it("reads through the table's read function, one statement per read, answering a miss as no session", async () => {
      const driver = open();
      expect(driver.unnamedStatements).toBe(true);
      const sent: string[] = [];
      const counted: StoreDriver = {
        ...driver,
        query: (statement, params) => {
          sent.push(statement.text);
          return driver.query(statement, params);
        },
      };
      const sessions = createSessions({ store: counted, schema, prune: false });
      const cookie = await storedCookie(sessions);
      sent.length = 0;
      const read = await sessions.resolve(cookie);
      expect(read.get("n")).toBe(1);
      expect(sent).toHaveLength(1);
      expect(sent[0]).toMatch(/^SELECT "[^"]+"\."sessions_find"\(now\(\), \$1::bytea, \$2::text\) AS r$/);
      // An unknown token: the function answers null, then the grace-window read runs.
      expect((await sessions.resolve(`session=${"A".repeat(43)}`)).isNew).toBe(true);
    });

    it("sessions.transaction(): its settings end with it; the next client on the same server connection sees no session and no rows", async () => {
      const sessions = createSessions({ store: open(), schema, prune: false });
      const alice = await sessions.resolve(await storedCookie(sessions, "alice"));
      const other = pgPool(single, 1);
      const observe = () =>
        other.query<{ pid: number; user_id: string | null; raw: string | null }>(
          `SELECT pg_backend_pid() AS pid, "${schema}".user_id() AS user_id, current_setting('pgsession.user_id', true) AS raw`,
        );
      // The control: a session-level setting does leak to the other client, so the check below can see a leak.
      await other.query("SELECT set_config('pgsession_test.leak', 'visible', false)");
      const [control] = (await postgresJs(single, { prepare: false })`SELECT current_setting('pgsession_test.leak', true) AS v`) as Array<{
        v: string;
      }>;
      expect(control?.v).toBe("visible");
      await other.query("SELECT set_config('pgsession_test.leak', '', false)");

      let queued: ReturnType<typeof observe> | undefined;
      const inside = await sessions.transaction(alice, async (sql) => {
        await sql.query(`SET LOCAL ROLE ${role}`);
        const [who] = await sql.query<{ pid: number; user_id: string }>(`SELECT pg_backend_pid() AS pid, "${schema}".user_id() AS user_id`);
        const notes = await sql.query<{ body: string }>(`SELECT body FROM "${schema}".notes ORDER BY body`);
        // The other client asks now, and waits for the one server connection: it runs right after COMMIT.
        queued = observe();
        return { ...who, notes: notes.map((n) => n.body) };
      });
      expect(inside).toMatchObject({ user_id: "alice", notes: ["a1"] });
      const after = (await queued!).rows[0];
      expect(after?.pid).toBe(inside.pid); // the same server connection
      expect(after?.user_id).toBeNull();
      expect(after?.raw === null || after?.raw === "").toBe(true);
      // As the application's role, outside any session transaction, the policy shows nothing.
      const client = await other.connect();
      try {
        await client.query("BEGIN");
        await client.query(`SET LOCAL ROLE ${role}`);
        const rows = await client.query(`SELECT pg_backend_pid() AS pid, body FROM "${schema}".notes`);
        await client.query("COMMIT");
        expect(rows.rows).toEqual([]);
      } finally {
        client.release();
      }
      // A transaction that fails ends its settings as well.
      await expect(
        sessions.transaction(alice, async (sql) => {
          await sql`SELECT 1`;
          throw new Error("rolled back");
        }),
      ).rejects.toThrow("rolled back");
      expect((await observe()).rows[0]).toMatchObject({ pid: inside.pid, user_id: null });
    });
  });

  it("session mode keeps named statements: pgStore's defaults work, and they stay prepared on the client's server connection", async () => {
    const pool = pgPool(pgbouncerUrl("pooled_session"), 2);
    const sessions = createSessions({ store: pgStore(pool), schema, prune: false });
    await workload(sessions);
    const client = await pool.connect();
    try {
      const rows = await client.query<{ name: string }>("SELECT name FROM pg_prepared_statements WHERE name LIKE 'pgsession%'");
      expect(rows.rows.length).toBeGreaterThan(0);
    } finally {
      client.release();
    }
  });

  it("the CLI sends its statements unnamed: migrate twice through the shared server connection", async () => {
    await pgPool(single, 1).query("DEALLOCATE ALL");
    const cliSchema = uniqueSchema("poolcli");
    const options = { env: cleanEnv({ DATABASE_URL: single }), cwd: process.cwd() };
    try {
      // Each run is a new client on the same server connection: a statement the first run
      // had prepared under a name would be there already when the second prepares it.
      for (let run = 0; run < 2; run++) {
        const result = await runCli(["migrate", "--schema", cliSchema], options);
        expect(result.stderr).toBe("");
        expect(result.code).toBe(0);
      }
      const applied = await admin.query(`SELECT version FROM "${cliSchema}".sessions_migrations ORDER BY version`);
      expect(applied.rows.map((row) => row.version)).toEqual(shippedMigrations().map((m) => m.version));
      expect(await preparedOnServer()).toEqual([]);
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS "${cliSchema}" CASCADE`);
    }
  });

  // Last: it leaves named statements on the shared server connection, and cleans them up.
  it("regression (issue 38): pg's named statements through transaction mode fail with a store error that names preparedStatements: false", async () => {
    const sessions = createSessions({ store: pgStore(pgPool(single, 3)), schema, prune: false });
    const cookie = await storedCookie(createSessions({ store: pgStore(admin), schema, prune: false }));
    // Three clients, one server connection: the second client to prepare a name finds it there already.
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => sessions.resolve(cookie)));
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === "rejected").map((r) => r.reason as unknown);
    expect(failures.length).toBeGreaterThan(0);
    for (const error of failures) {
      expect(error).toBeInstanceOf(SessionStoreError);
      expect(["42P05", "26000"]).toContain((error as SessionStoreError).sqlState);
      expect((error as Error).message).toMatch(/prepared statement "pgsession_find/);
      expect((error as Error).message).toMatch(/preparedStatements: false/);
    }
    await pgPool(single, 1).query("DEALLOCATE ALL");
  });
});
