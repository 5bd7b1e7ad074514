/**
 * Issue 36, point 22: `pgsession sql` prints an install script that psql alone applies to a
 * fresh schema, idempotently, with the migration history sessions.migrate() reads: the
 * schema then works from TypeScript and from SQL. Also each migration on its own, the
 * functions alone, and the same script through a driver (PGlite: no psql, no server).
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createSessions, installScript, shippedMigrations } from "../../src/index.js";
import { pgStore } from "../../src/store/pg.js";
import { pgliteStore } from "../../src/store/pglite.js";
import { cleanEnv, parseJson, runCli } from "../support/cli.js";
import { DATABASE_URL, hasPostgres, REQUIRE_POSTGRES, uniqueSchema } from "../support/db.js";

/** The migrations this version ships, and their versions. */
const SHIPPED = shippedMigrations();
const VERSIONS = SHIPPED.map((m) => m.version);

/** Whether psql runs; without it the psql suite is skipped, unless the server is required (CI). */
function psqlAvailable(): boolean {
  const found = spawnSync("psql", ["--version"], { encoding: "utf8" });
  if (found.status === 0) return true;
  if (REQUIRE_POSTGRES) throw new Error("PGSESSION_REQUIRE_POSTGRES=1 but psql is not on the PATH: install the PostgreSQL client");
  console.warn("SKIPPING the psql install tests: psql is not on the PATH.");
  return false;
}
const hasPsql = hasPostgres && psqlAvailable();

/** Runs psql on the test database with `script` on stdin, stopping at the first error. */
function psql(script: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env = { ...cleanEnv(), PGCONNECT_TIMEOUT: "10" };
    const child = spawn("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", DATABASE_URL, "-f", "-"], { env });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(script);
  });
}

describe.skipIf(!hasPsql)("pgsession sql, applied with psql", { timeout: 120_000 }, () => {
  const cwd = mkdtempSync(join(tmpdir(), "pgsession-sql-"));
  const env = cleanEnv();
  const schemas: string[] = [];
  const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  admin.on("error", () => {}); // the owner listens to idle-connection errors
  const pools: pg.Pool[] = [];

  const cli = (...args: string[]) => runCli(["sql", ...args], { env, cwd, timeoutMs: 45_000 });
  const fresh = (prefix: string) => {
    const schema = uniqueSchema(prefix);
    schemas.push(schema);
    return schema;
  };
  const sessionsOn = (schema: string, table = "sessions") => {
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 3 });
    pool.on("error", () => {});
    pools.push(pool);
    return createSessions({ store: pgStore(pool), schema, table });
  };
  const applied = async (schema: string, table = "sessions") =>
    (await admin.query(`SELECT version, name FROM "${schema}"."${table}_migrations" ORDER BY version`)).rows;

  afterAll(async () => {
    for (const pool of pools) await pool.end();
    for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
    rmSync(cwd, { recursive: true, force: true });
  });

  it("installs a fresh schema; a second run changes nothing; TypeScript and SQL then use it", async () => {
    const schema = fresh("sqlcli");
    const printed = await cli("--schema", schema, "--table", "web_sessions");
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout).toMatch(new RegExp(`CREATE\\s+TABLE "${schema}"\\."web_sessions"`));

    for (const run of [1, 2]) {
      const result = await psql(printed.stdout);
      expect(result.code, `run ${run}: ${result.stderr}`).toBe(0);
      expect(result.stderr, `run ${run}`).toBe("");
    }
    expect(await applied(schema, "web_sessions")).toEqual(SHIPPED);
    expect(SHIPPED.slice(0, 2)).toEqual([
      { version: 1, name: "001_init" },
      { version: 2, name: "002_updated_at" },
    ]);

    const sessions = sessionsOn(schema, "web_sessions");
    const status = await sessions.migrationStatus();
    expect(status.applied).toEqual(VERSIONS);
    expect(status.applied).toContain(status.latest);
    expect(await sessions.migrate()).toEqual([]); // nothing left to apply, and no failure

    const session = await sessions.resolve(undefined);
    session.set("cart", ["book"]);
    await session.login("ada");
    const token = /session=([^;]+)/.exec((await sessions.commit(session)) ?? "")?.[1] as string;
    expect((await sessions.resolveToken(token)).get("cart")).toEqual(["book"]);

    // From SQL: the handler answers the TypeScript session, and makes one TypeScript resolves.
    const client = await admin.connect();
    try {
      await client.query("BEGIN");
      const same = await client.query(`SELECT "${schema}".session_handler($1) AS token, "${schema}".user_id() AS user_id`, [token]);
      expect(same.rows[0]).toEqual({ token, user_id: "ada" });
      const made = await client.query(`SELECT "${schema}".session_handler(NULL) AS token, "${schema}".session_id() AS id`);
      await client.query("COMMIT");
      expect((await sessions.resolveToken(made.rows[0].token)).id).toBe(made.rows[0].id);
    } finally {
      client.release();
    }

    // Once more after the sessions exist: still nothing changes, and they survive.
    expect((await psql(printed.stdout)).code).toBe(0);
    expect((await sessions.resolveToken(token)).userId).toBe("ada");
  });

  it("run after sessions.migrate() it finds everything applied; --unlogged makes an UNLOGGED table", async () => {
    const migrated = fresh("sqlcli");
    await sessionsOn(migrated).migrate();
    const script = await cli("--schema", migrated);
    expect((await psql(script.stdout)).code).toBe(0);
    expect((await applied(migrated)).map((row) => row.version)).toEqual(VERSIONS);

    const unlogged = fresh("sqlcli");
    const printed = await cli("--schema", unlogged, "--unlogged");
    expect((await psql(printed.stdout)).code).toBe(0);
    const persistence = await admin.query(`SELECT relpersistence FROM pg_class WHERE oid = to_regclass($1)`, [`"${unlogged}".sessions`]);
    expect(persistence.rows).toEqual([{ relpersistence: "u" }]);
  });

  it("prints each migration on its own, in order only, and the functions alone", async () => {
    const schema = fresh("sqlcli");
    const list = await cli("--list", "--json");
    const { migrations } = parseJson<{ migrations: Array<{ version: number; name: string }> }>(list);
    expect(migrations.map((m) => m.version)).toEqual(VERSIONS);
    expect((await cli("--list")).stdout).toMatch(/1\s+001_init\n2\s+002_updated_at/);

    const second = await cli("--schema", schema, "--migration", "2");
    const early = await psql(second.stdout);
    expect(early.code).not.toBe(0);
    expect(early.stderr).toContain("pgsession: migration 002_updated_at needs migration 001_init first");

    // Each migration in order, the last one twice (idempotent), then the functions alone.
    const steps = [...VERSIONS.map((v) => ["--migration", String(v)]), ["--migration", String(VERSIONS.at(-1))], ["--functions"]];
    for (const args of steps) {
      const printed = await cli("--schema", schema, ...args);
      expect(printed.code, printed.stderr).toBe(0);
      const result = await psql(printed.stdout);
      expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBe(0);
    }
    const sessions = sessionsOn(schema);
    expect((await sessions.migrationStatus()).applied).toEqual(VERSIONS);
    expect(await sessions.migrate()).toEqual([]);
    const made = await admin.query(`SELECT "${schema}".session_handler(NULL) AS token`);
    expect((await sessions.resolveToken(made.rows[0].token)).isNew).toBe(false);
  });

  it("refuses what does not apply, with usage errors", async () => {
    const cases: Array<[string[], RegExp]> = [
      [["--migration", "9"], /there is no migration 9/],
      [["--migration", "1", "--functions"], /give one of/],
      [["--functions", "--unlogged"], /--unlogged goes with/],
      [["--database-url", DATABASE_URL], /connects to no database/],
    ];
    for (const [args, message] of cases) {
      const result = await cli(...args);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr).toMatch(message);
    }
    const badName = await cli("--schema", "x;y");
    expect(badName.code).toBe(3);
  });
});

describe("installScript through a driver (PGlite)", { timeout: 90_000 }, () => {
  it("applies twice, then migrate() finds the table up to date and sessions work", async () => {
    const driver = pgliteStore();
    try {
      const script = installScript({ schema: "installed" });
      await driver.exec(script);
      await driver.exec(script);
      const sessions = createSessions({ store: driver, schema: "installed" });
      expect(await sessions.migrate()).toEqual([]);
      const session = await sessions.resolve(undefined);
      session.set("n", 1);
      const token = /session=([^;]+)/.exec((await sessions.commit(session)) ?? "")?.[1] as string;
      expect((await sessions.resolveToken(token)).get("n")).toBe(1);
    } finally {
      await driver.close();
    }
  });

  it("refuses a bad name or an unknown migration with a configuration error", () => {
    expect(() => installScript({ schema: 'x"; DROP TABLE y; --' })).toThrow(/schema/);
    expect(() => installScript({ only: 42 })).toThrow(/only/);
  });
});
