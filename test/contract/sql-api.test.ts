/**
 * The SQL side (issue 4): sessions.transaction with session_id()/user_id()/audience(),
 * Row-Level Security through it, no leak to the next user of a pooled connection, and
 * session_handler(token) with omni_session's semantics, interoperable with TypeScript.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSessions } from "../../src/index.js";
import { generatePublicId, generateToken, hashToken, isWellFormedToken } from "../../src/session/token.js";
import { describeEachTarget, tokenOf } from "../support/suite.js";

describeEachTarget("the SQL side", (ctx) => {
  describe("sessions.transaction", () => {
    it("exposes the session to SQL inside the transaction only", async () => {
      const { schema, driver } = ctx();
      const sessions = ctx().sessions({ audience: "shop" });
      const session = await sessions.resolve(undefined);
      await session.login("alice");
      await sessions.commit(session);
      const inside = await sessions.transaction(session, (sql) =>
        sql.query(`SELECT "${schema}".session_id() AS id, "${schema}".user_id() AS user_id, "${schema}".audience() AS audience`),
      );
      expect(inside).toEqual([{ id: session.id, user_id: "alice", audience: "shop" }]);
      const outside = await driver.query(
        { name: "", text: `SELECT "${schema}".session_id() AS id, "${schema}".user_id() AS u, "${schema}".audience() AS a` },
        [],
      );
      expect(outside).toEqual([{ id: null, u: null, a: null }]);
    });

    it("sends tagged-template values as parameters, never as SQL", async () => {
      const sessions = ctx().sessions();
      const session = await sessions.resolve(undefined);
      const evil = "'; DROP TABLE nothing; --";
      const rows = await sessions.transaction(session, (sql) => sql`SELECT ${evil}::text AS v, ${42}::int AS n`);
      expect(rows).toEqual([{ v: evil, n: 42 }]);
    });

    it("rolls back when the callback throws", async () => {
      const { schema, target } = ctx();
      await target.sql(`CREATE TABLE "${schema}".rollback_probe (v text)`);
      const sessions = ctx().sessions();
      const session = await sessions.resolve(undefined);
      await expect(
        sessions.transaction(session, async (sql) => {
          await sql.query(`INSERT INTO "${schema}".rollback_probe VALUES ($1)`, ["x"]);
          throw new Error("boom");
        }),
      ).rejects.toThrow("boom");
      expect(await target.sql(`SELECT count(*)::int AS n FROM "${schema}".rollback_probe`)).toEqual([{ n: 0 }]);
    });

    it("never leaks the settings to the next user of a pooled connection (pool of one)", async () => {
      const { schema } = ctx();
      const single = await ctx().openSingleConnection();
      const sessions = createSessions({ store: single, schema });
      const session = await sessions.resolve(undefined);
      await session.login("bob");
      const pid = async () => (await single.query({ name: "", text: "SELECT pg_backend_pid() AS pid" }, []))[0]?.pid;
      const before = await pid();
      expect(await sessions.transaction(session, (sql) => sql.query(`SELECT "${schema}".user_id() AS u`))).toEqual([{ u: "bob" }]);
      // An aborted transaction must not leak either.
      await expect(
        sessions.transaction(session, async () => {
          throw new Error("abort");
        }),
      ).rejects.toThrow("abort");
      expect(await pid()).toBe(before); // the very same connection
      const after = await single.query(
        {
          name: "",
          text: `SELECT "${schema}".session_id() AS id, "${schema}".user_id() AS u, "${schema}".audience() AS a,
        current_setting('pgsession.user_id', true) AS raw`,
        },
        [],
      );
      expect(after[0]).toMatchObject({ id: null, u: null, a: null });
      expect(after[0]?.raw === null || after[0]?.raw === "").toBe(true);
      const inTx = await single.transaction((tx) => tx.query({ name: "", text: `SELECT "${schema}".user_id() AS u` }, []));
      expect(inTx).toEqual([{ u: null }]);
    });
  });

  describe("row-level security through sessions.transaction", () => {
    const role = `pgs_rls_${randomBytes(4).toString("hex")}`;

    beforeAll(async () => {
      const { schema, target } = ctx();
      // The superuser bypasses RLS: the application's queries run as a plain role.
      await target.sql(`CREATE ROLE ${role} NOLOGIN`);
      await target.sql(
        `CREATE TABLE "${schema}".notes (id serial PRIMARY KEY, owner text NOT NULL DEFAULT "${schema}".user_id(), body text NOT NULL)`,
      );
      await target.sql(`ALTER TABLE "${schema}".notes ENABLE ROW LEVEL SECURITY`);
      await target.sql(`CREATE POLICY own_notes ON "${schema}".notes
        USING (owner = "${schema}".user_id()) WITH CHECK (owner = "${schema}".user_id())`);
      await target.sql(`GRANT USAGE ON SCHEMA "${schema}" TO ${role}`);
      await target.sql(`GRANT SELECT, INSERT ON "${schema}".notes TO ${role}`);
      await target.sql(`GRANT USAGE ON SEQUENCE "${schema}".notes_id_seq TO ${role}`);
      await target.sql(`INSERT INTO "${schema}".notes (owner, body) VALUES ('alice', 'a1'), ('alice', 'a2'), ('bob', 'b1')`);
    });
    afterAll(async () => {
      const { schema, target } = ctx();
      await target.sql(`DROP TABLE IF EXISTS "${schema}".notes`);
      await target.sql(`REVOKE ALL ON SCHEMA "${schema}" FROM ${role}`);
      await target.sql(`DROP ROLE IF EXISTS ${role}`);
    });

    it("shows each user only their own rows, and nothing outside", async () => {
      const { schema, driver } = ctx();
      const sessions = ctx().sessions();
      const alice = await sessions.resolve(undefined);
      await alice.login("alice");
      const bob = await sessions.resolve(undefined);
      await bob.login("bob");
      const anonymous = await sessions.resolve(undefined);
      const notes = (session: typeof alice) =>
        sessions.transaction(session, async (sql) => {
          await sql.query(`SET LOCAL ROLE ${role}`);
          return (await sql.query<{ body: string }>(`SELECT body FROM "${schema}".notes ORDER BY body`)).map((r) => r.body);
        });
      expect(await notes(alice)).toEqual(["a1", "a2"]);
      expect(await notes(bob)).toEqual(["b1"]);
      expect(await notes(anonymous)).toEqual([]);
      // Writes are checked too: bob cannot write a row owned by alice.
      await expect(
        sessions.transaction(bob, async (sql) => {
          await sql.query(`SET LOCAL ROLE ${role}`);
          await sql.query(`INSERT INTO "${schema}".notes (owner, body) VALUES ($1, $2)`, ["alice", "forged"]);
        }),
      ).rejects.toThrow(/row-level security/);
      await sessions.transaction(bob, async (sql) => {
        await sql.query(`SET LOCAL ROLE ${role}`);
        await sql.query(`INSERT INTO "${schema}".notes (body) VALUES ($1)`, ["b2"]);
      });
      expect(await notes(bob)).toEqual(["b1", "b2"]);
      // Outside sessions.transaction the same role sees nothing.
      const outside = await driver.transaction(async (tx) => {
        await tx.exec(`SET LOCAL ROLE ${role}`);
        return tx.query({ name: "", text: `SELECT body FROM "${schema}".notes` }, []);
      });
      expect(outside).toEqual([]);
    });
  });

  describe("session_handler(token)", () => {
    const handle = async (token: string | null) => {
      const { schema, driver } = ctx();
      return driver.transaction(async (tx) => {
        const [row] = await tx.query({ name: "", text: `SELECT "${schema}".session_handler($1::text) AS token` }, [token]);
        const [current] = await tx.query({ name: "", text: `SELECT "${schema}".session_id() AS id, "${schema}".user_id() AS user_id` }, []);
        return { token: row?.token as string, id: current?.id as string | null, userId: current?.user_id as string | null };
      });
    };
    const rowOf = async (token: string) => {
      const { schema, target } = ctx();
      const rows = await target.sql(`SELECT id, user_id FROM "${schema}".sessions WHERE token_hash = decode($1, 'hex')`, [
        hashToken(token),
      ]);
      return rows[0] as { id: string; user_id: string | null } | undefined;
    };

    it("NULL gives a new stored session with a well-formed token hashed like TypeScript", async () => {
      const result = await handle(null);
      expect(isWellFormedToken(result.token)).toBe(true);
      const row = await rowOf(result.token);
      expect(row?.id).toBe(result.id);
      expect(result.userId).toBeNull();
      const second = await handle(null);
      expect(second.token).not.toBe(result.token);
      expect(second.id).not.toBe(result.id);
      // Public ids are made in SQL as in TypeScript: the creation time, then 96 random bits.
      for (const { id } of [result, second]) {
        expect(id).toMatch(/^[A-Za-z0-9_-]{24}$/);
        expect(Buffer.from(String(id).slice(8), "base64url")).toHaveLength(12);
      }
      const { schema, target } = ctx();
      const [created] = await target.sql(
        `SELECT floor(extract(epoch FROM created_at) * 1000)::float8 AS ms FROM "${schema}".sessions WHERE id = $1::text`,
        [result.id],
      );
      expect(String(result.id).slice(0, 8)).toBe(generatePublicId(undefined, created!.ms as number).slice(0, 8));
    });

    it("a live token comes back unchanged and names its session (made in TypeScript)", async () => {
      const sessions = ctx().sessions();
      const session = await sessions.resolve(undefined);
      await session.login("carol");
      const token = tokenOf(await sessions.commit(session));
      expect(await handle(token)).toEqual({ token, id: session.id, userId: "carol" });
    });

    it("an unknown, malformed or expired token gives a new session", async () => {
      const unknown = generateToken();
      const fromUnknown = await handle(unknown);
      expect(fromUnknown.token).not.toBe(unknown);
      expect(isWellFormedToken(fromUnknown.token)).toBe(true);
      expect(await rowOf(unknown)).toBeUndefined();

      const malformed = await handle("not a token' OR 1=1 --");
      expect(isWellFormedToken(malformed.token)).toBe(true);

      // Created long ago by the injected clock: expired by the database clock.
      const past = ctx().sessions({ now: () => new Date("2020-01-01T00:00:00Z"), idleTimeout: "1h", absoluteTimeout: "2h" });
      const old = await past.resolve(undefined);
      old.set("k", 1);
      const oldToken = tokenOf(await past.commit(old));
      const fromExpired = await handle(oldToken);
      expect(fromExpired.token).not.toBe(oldToken);
      expect(fromExpired.id).not.toBe(old.id);
    });

    it("a session created in SQL resolves in TypeScript, and keeps working in SQL", async () => {
      const sessions = ctx().sessions();
      const created = await handle(null);
      const session = await sessions.resolveToken(created.token);
      expect(session.isNew).toBe(false);
      expect(session.id).toBe(created.id);
      session.set("cart", ["book"]);
      await session.login("dave");
      const rotated = tokenOf(await sessions.commit(session));
      expect((await sessions.resolveToken(rotated)).get("cart")).toEqual(["book"]);
      expect(await handle(rotated)).toEqual({ token: rotated, id: created.id, userId: "dave" });
      // The token before the login names nothing any more, in SQL as in TypeScript; a plain
      // rotation's previous token still works inside its grace window.
      const retired = await handle(created.token);
      expect(retired.token).not.toBe(created.token);
      expect(retired.id).not.toBe(created.id);
      const again = await sessions.resolveToken(rotated);
      await again.rotate();
      const next = tokenOf(await sessions.commit(again));
      expect(await handle(rotated)).toEqual({ token: rotated, id: created.id, userId: "dave" });
      expect(await handle(next)).toEqual({ token: next, id: created.id, userId: "dave" });
    });

    it("takes timeouts and an audience", async () => {
      const { schema, target } = ctx();
      const rows = await target.sql(`SELECT "${schema}".session_handler(NULL, interval '10 minutes', interval '1 hour', 'api') AS token`);
      const token = rows[0]?.token as string;
      const [row] = await target.sql(
        `SELECT audience, idle_timeout = interval '10 minutes' AS idle_ok,
          absolute_expires_at - created_at = interval '1 hour' AS abs_ok FROM "${schema}".sessions WHERE token_hash = "${schema}".token_hash($1)`,
        [token],
      );
      expect(row).toEqual({ audience: "api", idle_ok: true, abs_ok: true });
    });
  });
});

describe("tagged template misuse", () => {
  it("is a clear TypeError", async () => {
    const { createSessionSql } = await import("../../src/store/session-sql.js");
    const sql = createSessionSql({ query: async () => [], exec: async () => {} });
    expect(() => (sql as unknown as (text: string) => unknown)("SELECT 1")).toThrow(TypeError);
    expect(await sql`SELECT ${1}`).toEqual([]);
  });
});
