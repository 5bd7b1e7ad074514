/**
 * Issue 36, points 20 and 21, on the SQL functions: the transaction's session settings
 * belong to one sessions table (schema), so another schema's session_id(), user_id() and
 * audience() return NULL; session_handler() refuses bad timeouts with SQLSTATE 22023, and
 * runs with its owner's rights, so that the GRANT recipe of docs/sql.md lets a role with no
 * privilege on the table call it (and only the roles it names).
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSessions } from "../../src/index.js";
import type { Queryable } from "../../src/driver.js";
import { uniqueSchema } from "../support/db.js";
import { describeEachTarget, tokenOf } from "../support/suite.js";

/** The SQLSTATE of a failed statement, whichever driver threw it. */
async function sqlStateOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (err) {
    return (err as { code?: string }).code;
  }
  throw new Error("expected the statement to fail");
}

/** The GRANT recipe of docs/sql.md, for a schema and a role of the test's. */
function grantRecipe(schema: string, role: string): string {
  const doc = readFileSync(new URL("../../docs/sql.md", import.meta.url), "utf8");
  const block = /test\/regressions\/sql-functions\.test\.ts\. -->\s*```sql\n([\s\S]*?)```/.exec(doc)?.[1];
  if (!block) throw new Error("docs/sql.md has no GRANT recipe where this test expects it");
  return block.replaceAll("pgsession.", `"${schema}".`).replaceAll("SCHEMA pgsession", `SCHEMA "${schema}"`).replaceAll("app_user", role);
}

describeEachTarget("the SQL functions", (ctx) => {
  const run = (tx: Queryable, text: string, params: unknown[] = []) => tx.query({ name: "", text }, params);

  describe("settings per sessions table (point 20)", () => {
    const other = uniqueSchema("other");
    beforeAll(async () => {
      await createSessions({ store: ctx().driver, schema: other }).migrate();
    });
    afterAll(async () => {
      await ctx().target.sql(`DROP SCHEMA IF EXISTS "${other}" CASCADE`);
    });

    const names = (schema: string) =>
      `"${schema}".session_id() AS id, "${schema}".user_id() AS user_id, "${schema}".audience() AS audience`;

    it("inside sessions.transaction for one schema's session, another schema's functions return NULL", async () => {
      const { schema } = ctx();
      const sessions = ctx().sessions({ audience: "shop" });
      const session = await sessions.resolve(undefined);
      await session.login("alice");
      await sessions.commit(session);
      const [row] = await sessions.transaction(session, (sql) =>
        sql.query(`SELECT ${names(schema)}, ${names(other).replaceAll(" AS ", " AS other_")}`),
      );
      expect(row).toEqual({
        id: session.id,
        user_id: "alice",
        audience: "shop",
        other_id: null,
        other_user_id: null,
        other_audience: null,
      });
    });

    it("session_handler() scopes its settings the same way; the last schema entered is the one that answers", async () => {
      const { schema, driver } = ctx();
      const [first, second] = await driver.transaction(async (tx) => {
        const [made] = await run(
          tx,
          `SELECT "${schema}".session_handler(NULL) AS token, ${names(schema)}, ${names(other).replaceAll(" AS ", " AS other_")}`,
        );
        const [then] = await run(
          tx,
          `SELECT "${other}".session_handler(NULL) AS token, ${names(other)}, "${schema}".session_id() AS first_id`,
        );
        return [made!, then!];
      });
      expect(first.id).toEqual(expect.any(String));
      expect(first).toMatchObject({ other_id: null, other_user_id: null, other_audience: null });
      expect(second.id).toEqual(expect.any(String));
      expect(second.id).not.toBe(first.id);
      expect(second.first_id).toBeNull();
    });
  });

  describe("session_handler arguments (point 21)", () => {
    const cases: Array<[string, string]> = [
      ["a NULL idle timeout", "NULL, interval '7 days'"],
      ["a zero idle timeout", "interval '0', interval '7 days'"],
      ["a negative idle timeout", "interval '-1 hour', interval '7 days'"],
      ["a NULL absolute timeout", "interval '1 hour', NULL"],
      ["a zero absolute timeout", "interval '1 hour', interval '0 seconds'"],
      ["a negative absolute timeout", "interval '1 hour', interval '-1 day'"],
      ["an absolute timeout shorter than the idle one", "interval '2 hours', interval '1 hour'"],
    ];
    for (const [what, timeouts] of cases) {
      it(`${what} raises SQLSTATE 22023 (invalid_parameter_value), for a new and for a live token`, async () => {
        const { schema, target } = ctx();
        const sessions = ctx().sessions();
        const session = await sessions.resolve(undefined);
        session.set("n", 1);
        const token = tokenOf(await sessions.commit(session));
        for (const given of ["NULL", `'${token}'`]) {
          const call = target.sql(`SELECT "${schema}".session_handler(${given}, ${timeouts}) AS token`);
          expect(await sqlStateOf(call), `${what}, token ${given === "NULL" ? "NULL" : "live"}`).toBe("22023");
        }
        await expect(target.sql(`SELECT "${schema}".session_handler(NULL, ${timeouts})`)).rejects.toThrow(/pgsession: session_handler's/);
      });
    }
  });

  describe("a least-privilege role (point 21)", () => {
    const suffix = randomBytes(4).toString("hex");
    const app = `pgs_app_${suffix}`;
    const stranger = `pgs_none_${suffix}`;
    const own = `pgs_own_${suffix}`;

    beforeAll(async () => {
      const { schema, target } = ctx();
      await target.sql(`CREATE ROLE ${app} NOLOGIN`);
      await target.sql(`CREATE ROLE ${stranger} NOLOGIN`);
      for (const statement of grantRecipe(schema, app)
        .split(/;\s*\n/)
        .filter((s) => s.trim()))
        await target.sql(statement);
      // The stranger may look into the schema, but was granted nothing in it.
      await target.sql(`GRANT USAGE ON SCHEMA "${schema}" TO ${stranger}`);
      // A schema of the application role's own, where it can plant functions named like built-ins.
      await target.sql(`CREATE SCHEMA ${own} AUTHORIZATION ${app}`);
    });
    afterAll(async () => {
      const { target } = ctx();
      for (const role of [app, stranger]) {
        await target.sql(`DROP OWNED BY ${role}`).catch(() => {});
        await target.sql(`DROP ROLE IF EXISTS ${role}`);
      }
    });

    /** Runs `fn` in a transaction as `role`. */
    const as = <T>(role: string, fn: (tx: Queryable) => Promise<T>) =>
      ctx().driver.transaction(async (tx) => {
        await tx.exec(`SET LOCAL ROLE ${role}`);
        return fn(tx);
      });

    it("with the recipe of docs/sql.md, calls session_handler and the session functions, and cannot read the table", async () => {
      const { schema } = ctx();
      const made = await as(app, async (tx) => {
        const [row] = await run(tx, `SELECT "${schema}".session_handler(NULL, interval '1 hour', interval '1 day', 'api') AS token`);
        const [who] = await run(
          tx,
          `SELECT "${schema}".session_id() AS id, "${schema}".user_id() AS user_id, "${schema}".audience() AS audience`,
        );
        return { token: row?.token as string, id: who?.id, user_id: who?.user_id, audience: who?.audience };
      });
      expect(made).toMatchObject({ user_id: null, audience: "api" });
      expect(made.id).toEqual(expect.any(String));
      // The token names the session it made, for the same role.
      const again = await as(app, (tx) =>
        run(tx, `SELECT "${schema}".session_handler($1::text, interval '1 hour', interval '1 day', 'api') AS token`, [made.token]),
      );
      expect(again[0]?.token).toBe(made.token);

      expect(await sqlStateOf(as(app, (tx) => run(tx, `SELECT * FROM "${schema}".sessions`)))).toBe("42501");
      expect(await sqlStateOf(as(app, (tx) => run(tx, `DELETE FROM "${schema}".sessions`)))).toBe("42501");
    });

    it("a role the recipe did not name cannot call session_handler (it is revoked from PUBLIC)", async () => {
      const { schema } = ctx();
      const call = () => as(stranger, (tx) => run(tx, `SELECT "${schema}".session_handler(NULL)`));
      expect(await sqlStateOf(call())).toBe("42501");
      await expect(call()).rejects.toThrow(/permission denied for function session_handler/);
    });

    it("the grants survive another migrate, and functions the caller puts first on its search_path are not used inside", async () => {
      const { schema } = ctx();
      await ctx().sessions().migrate();
      const rows = await as(app, async (tx) => {
        // Run with its owner's rights, session_handler would run these as the owner if it looked them up.
        await tx.exec(`CREATE OR REPLACE FUNCTION ${own}.now() RETURNS timestamptz LANGUAGE plpgsql AS
          $$ BEGIN RAISE EXCEPTION 'planted now() ran'; END $$`);
        await tx.exec(`CREATE OR REPLACE FUNCTION ${own}.set_config(text, text, boolean) RETURNS text LANGUAGE plpgsql AS
          $$ BEGIN RAISE EXCEPTION 'planted set_config() ran'; END $$`);
        await tx.exec(`SET LOCAL search_path = ${own}, pg_catalog`);
        return run(tx, `SELECT "${schema}".session_handler(NULL) AS token`);
      });
      expect(rows[0]?.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(await sqlStateOf(as(stranger, (tx) => run(tx, `SELECT "${schema}".session_handler(NULL)`)))).toBe("42501");
    });
  });
});
