/**
 * The `pgsession` CLI as a user runs it: a child process, against the real PostgreSQL
 * server (its own schema) and against PGlite (`--pglite`: its own ./.pgsession directory);
 * and without a database setting, where it must refuse and create nothing.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSessions, shippedMigrations, type Sessions } from "../../src/index.js";
import type { StoreDriver } from "../../src/driver.js";
import { pgStore } from "../../src/store/pg.js";
import { pgliteStore } from "../../src/store/pglite.js";
import { cleanEnv, parseJson, runCli, type CliResult } from "../support/cli.js";
import { DATABASE_URL, hasPostgres, uniqueSchema } from "../support/db.js";

/** The migrations this version ships, and the latest of them. */
const SHIPPED = shippedMigrations().map((m) => m.version);
const LATEST = SHIPPED.at(-1);

interface CliTarget {
  name: string;
  needsServer: boolean;
  /** Extra CLI arguments that select this target's table. */
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Opens the same database in this process (PGlite allows one process at a time, so close after). */
  driver(): StoreDriver;
  schema: string;
  cleanup(): Promise<void>;
}

function pgCliTarget(): CliTarget {
  const schema = uniqueSchema("cli");
  const cwd = mkdtempSync(join(tmpdir(), "pgsession-cli-"));
  return {
    name: "PostgreSQL server",
    needsServer: true,
    args: ["--schema", schema],
    schema,
    cwd,
    env: cleanEnv({ DATABASE_URL }),
    driver: () => pgStore({ connectionString: DATABASE_URL, max: 2 }),
    async cleanup() {
      const client = new pg.Client({ connectionString: DATABASE_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
      rmSync(cwd, { recursive: true, force: true });
    },
  };
}

function pgliteCliTarget(): CliTarget {
  // A bare --pglite: the embedded database in ./.pgsession of the working directory.
  const cwd = mkdtempSync(join(tmpdir(), "pgsession-cli-"));
  return {
    name: "PGlite in ./.pgsession",
    needsServer: false,
    args: ["--pglite"],
    schema: "pgsession",
    cwd,
    env: cleanEnv(),
    driver: () => pgliteStore(join(cwd, ".pgsession")),
    async cleanup() {
      rmSync(cwd, { recursive: true, force: true });
    },
  };
}

const targets = [pgCliTarget, pgliteCliTarget];

for (const makeTarget of targets) {
  const target = makeTarget();
  // Each PGlite run opens the database from disk (seconds on a busy machine): generous timeouts.
  describe.skipIf(target.needsServer && !hasPostgres)(`pgsession CLI on ${target.name}`, { timeout: 180_000 }, () => {
    const cli = (...args: string[]): Promise<CliResult> =>
      runCli([...args, ...target.args], { env: target.env, cwd: target.cwd, timeoutMs: 45_000 });

    async function withSessions<T>(fn: (sessions: Sessions, driver: StoreDriver) => Promise<T>, now?: () => Date): Promise<T> {
      const driver = target.driver();
      const sessions = createSessions({ store: driver, schema: target.schema, ...(now && { now }) });
      try {
        return await fn(sessions, driver);
      } finally {
        await sessions.close();
      }
    }

    async function signIn(sessions: Sessions, userId: string, userAgent: string, remember = false): Promise<string> {
      const session = await sessions.resolve(undefined, { ip: "203.0.113.7", userAgent });
      await session.login(userId, { remember });
      await sessions.commit(session);
      return session.id;
    }

    const ids: Record<string, string> = {};

    afterAll(() => target.cleanup());

    it("migrate applies the migration once; running it again is a no-op", async () => {
      const before = await cli("status", "--json");
      expect(before.code).toBe(5);
      // A server without the table says so; a PGlite directory without a database is not created.
      expect(parseJson(before)).toMatchObject(
        target.needsServer ? { migrated: false, version: 0 } : { error: { code: "ERR_CLI_NO_DATABASE", exitCode: 5 } },
      );

      const first = await cli("migrate", "--json");
      expect(first.code, first.stderr).toBe(0);
      expect(parseJson(first)).toMatchObject({ applied: SHIPPED, version: LATEST, schema: target.schema });

      const second = await cli("migrate");
      expect(second.code, second.stderr).toBe(0);
      expect(second.stdout).toContain(`is up to date (version ${LATEST})`);
      const again = await cli("migrate", "--json");
      expect(parseJson(again)).toMatchObject({ applied: [], version: LATEST, latest: LATEST });
    });

    it("status counts live and expired sessions; prune deletes exactly the expired ones, in batches", async () => {
      // Expired sessions: created by a clock two days in the past with a one-day idle timeout.
      const past = () => new Date(Date.now() - 2 * 86_400_000);
      const expired = await withSessions(
        async (sessions) => [
          await signIn(sessions, "alice", "old laptop"),
          await signIn(sessions, "carol", "old phone"),
          await signIn(sessions, "carol", "old tablet"),
        ],
        past,
      );
      await withSessions(async (sessions) => {
        ids.laptop = await signIn(sessions, "alice", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", true);
        ids.phone = await signIn(
          sessions,
          "alice",
          "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Version/17.5 Mobile/15E148 Safari/604.1",
        );
        ids.bob = await signIn(sessions, "bob", "curl/8.5.0");
        const anonymous = await sessions.resolve(undefined, {});
        anonymous.set("cart", ["book"]);
        await sessions.commit(anonymous);
      });

      const status = await cli("status", "--json");
      expect(status.code, status.stderr).toBe(0);
      const counts = parseJson<{ counts: { live: number; expired: number; authenticated: number; oldestCreatedAt: string } }>(
        status,
      ).counts;
      expect(counts).toMatchObject({ live: 4, expired: 3, authenticated: 3 });
      expect(Date.parse(counts.oldestCreatedAt)).toBeGreaterThan(Date.now() - 3_600_000);
      const human = await cli("status");
      expect(human.stdout).toMatch(/expired sessions:\s+3 \(run pgsession prune\)/);

      const dry = await cli("prune", "--dry-run", "--json");
      expect(parseJson(dry)).toMatchObject({ dryRun: true, expired: 3, total: 7 });

      // Not a terminal: one plain line per batch, no progress bar escape codes.
      const pruned = await cli("prune", "--batch-size", "2", "--pause", "5ms");
      expect(pruned.code, pruned.stderr).toBe(0);
      expect(pruned.stdout).toMatch(/^batch 1: scanned 2\/7, deleted \d\n/);
      expect(pruned.stdout).toContain("batch 4: scanned 7/7, deleted 3");
      expect(pruned.stdout).toContain("deleted 3 expired sessions in 4 batches");
      expect(pruned.stdout + pruned.stderr).not.toContain("\u001b[");

      await withSessions(async (_sessions, driver) => {
        const left = await driver.query({ name: "cli_test_ids", text: `SELECT id FROM "${target.schema}".sessions` }, []);
        const leftIds = left.map((row) => row.id as string);
        expect(leftIds).toHaveLength(4);
        for (const id of expired) expect(leftIds).not.toContain(id);
        for (const id of [ids.laptop, ids.phone, ids.bob]) expect(leftIds).toContain(id);
      });

      const again = await cli("prune", "--json");
      expect(parseJson(again)).toMatchObject({ deleted: 0, scanned: 4 });
    });

    it("list shows a user's sessions, in text and in JSON", async () => {
      const text = await cli("list", "--user", "alice");
      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout).toContain(ids.laptop);
      expect(text.stdout).toContain("Firefox 128 on Linux");
      expect(text.stdout).toContain("Safari 17 on iOS");
      expect(text.stdout).toContain("203.0.113.7");

      const json = parseJson<{ user: string; sessions: Array<{ id: string; remember: boolean; userAgent: string; expiresAt: string }> }>(
        await cli("list", "--user", "alice", "--json"),
      );
      expect(json.user).toBe("alice");
      expect(json.sessions.map((s) => s.id).sort()).toEqual([ids.laptop, ids.phone].sort());
      expect(json.sessions.find((s) => s.id === ids.laptop)?.remember).toBe(true);
      expect(Date.parse(json.sessions[0]!.expiresAt)).toBeGreaterThan(Date.now());

      const nobody = await cli("list", "--user", "nobody");
      expect(nobody.stdout).toContain('no live sessions for user "nobody"');
    });

    it("stats reports audiences, the remember-me share and recent activity", async () => {
      const stats = parseJson<{
        live: number;
        remember: number;
        rememberShare: number;
        users: number;
        created: { lastHour: number };
        byAudience: Array<{ audience: string | null; sessions: number }>;
      }>(await cli("stats", "--json"));
      expect(stats).toMatchObject({ live: 4, remember: 1, rememberShare: 0.25, users: 2 });
      expect(stats.created.lastHour).toBe(4);
      expect(stats.byAudience).toEqual([{ audience: null, sessions: 4, users: 2 }]);
      const text = await cli("stats");
      expect(text.stdout).toMatch(/remember me:\s+1 \(25\.0%\)/);
    });

    it("revoke ends all of a user's sessions but one, then that one; an unknown id exits 5", async () => {
      const others = await cli("revoke", "--user", "alice", "--except", ids.laptop!, "--json");
      expect(others.code, others.stderr).toBe(0);
      expect(parseJson(others)).toMatchObject({ user: "alice", revoked: 1 });
      const listed = parseJson<{ sessions: Array<{ id: string }> }>(await cli("list", "--user", "alice", "--json"));
      expect(listed.sessions.map((s) => s.id)).toEqual([ids.laptop]);

      const one = await cli("revoke", "--session", ids.laptop!);
      expect(one.code, one.stderr).toBe(0);
      expect(one.stdout).toContain(`revoked session ${ids.laptop}`);
      const gone = await cli("revoke", "--session", ids.laptop!);
      expect(gone.code).toBe(5);
      expect(gone.stderr).toContain("no session with public id");
      expect(parseJson<{ sessions: unknown[] }>(await cli("list", "--user", "alice", "--json")).sessions).toEqual([]);
      // Bob's session was never touched.
      expect(
        parseJson<{ sessions: Array<{ id: string }> }>(await cli("list", "--user", "bob", "--json")).sessions.map((s) => s.id),
      ).toEqual([ids.bob]);
    });

    // Only a server target has PG* variables to read (PGlite runs without any).
    if (target.needsServer)
      it("without DATABASE_URL it reads the PG* variables", async () => {
        const url = new URL(DATABASE_URL);
        const env = cleanEnv({
          PGHOST: url.hostname,
          PGPORT: url.port || "5432",
          PGUSER: decodeURIComponent(url.username),
          PGDATABASE: url.pathname.slice(1),
          ...(url.password && { PGPASSWORD: decodeURIComponent(url.password) }),
        });
        const result = await runCli(["migrate", "--json", ...target.args], { env, cwd: target.cwd });
        expect(result.code, result.stderr).toBe(0);
        expect(parseJson(result)).toMatchObject({ target: { kind: "postgresql" }, schema: target.schema, version: LATEST });
        expect(parseJson<{ target: { location: string } }>(result).target.location).toContain("PG* variables");
      });

    it("--table selects another sessions table in the same schema", async () => {
      const migrated = await cli("migrate", "--table", "other_sessions", "--json");
      expect(migrated.code, migrated.stderr).toBe(0);
      expect(parseJson(migrated)).toMatchObject({ applied: SHIPPED, table: "other_sessions" });
      const status = parseJson<{ table: string; counts: { live: number } }>(await cli("status", "--table", "other_sessions", "--json"));
      expect(status).toMatchObject({ table: "other_sessions", counts: { live: 0 } });
    });

    it("a bad schema name is a configuration error (exit 3) naming the option", async () => {
      const result = await runCli(["status", ...target.args, "--schema", "bad-name"], { env: target.env, cwd: target.cwd });
      expect(result.code).toBe(3);
      expect(result.stderr).toContain("invalid option schema");
    });
  });
}

describe("pgsession CLI arguments", { timeout: 90_000 }, () => {
  let cwd: string;
  beforeAll(() => {
    cwd = mkdtempSync(join(tmpdir(), "pgsession-cli-args-"));
  });
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));
  const cli = (...args: string[]) => runCli(args, { env: cleanEnv(), cwd, timeoutMs: 30_000 });

  it.each([
    [["frob"], 'unknown command "frob"'],
    [["list"], "--user is required"],
    [["list", "--usr", "alice"], "Unknown option '--usr'"],
    [["list", "--user"], "argument missing"],
    [["list", "--user", "alice", "extra"], "Unexpected argument 'extra'"],
    [["revoke"], "give --session PUBLIC_ID or --user ID"],
    [["revoke", "--session", "a", "--user", "b"], "either --session or --user"],
    [["revoke", "--session", "a", "--except", "b"], "--except and --audience go with --user"],
    [["prune", "--batch-size", "lots"], '--batch-size must be a whole number from 1 to 100000, not "lots"'],
    [["prune", "--pause", "soon"], '--pause must be a duration from 0 to 60000 ms (e.g. "20ms", "1s"), not "soon"'],
    [["prune", "--pause", "2m"], "--pause must be a duration from 0 to 60000 ms"],
    [["demo", "--port", "99999"], "--port must be a whole number"],
    [["status", "--database-url", "postgres://x", "--data-dir", "y"], "not both"],
  ])("pgsession %j exits 2 with a useful message", async (args, message) => {
    const result = await cli(...args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).toMatch(/Run `pgsession( \w+)? --help`/);
    expect(result.stdout).toBe("");
  });

  it("--json errors are JSON on stdout too", async () => {
    const result = await cli("list", "--json");
    expect(result.code).toBe(2);
    expect(parseJson(result)).toEqual({ error: { code: "ERR_CLI_USAGE", message: "--user is required", exitCode: 2 } });
  });

  it("an unreachable database is a store error (exit 4), never a crash", async () => {
    const result = await runCli(["status"], { env: cleanEnv({ DATABASE_URL: "postgres://postgres@127.0.0.1:1/none" }), cwd });
    expect(result.code).toBe(4);
    expect(result.stderr).toContain("ECONNREFUSED");
    expect(result.stderr).not.toContain("    at ");
  });

  it("every command has --help; the bare command lists them", async () => {
    for (const command of ["migrate", "status", "prune", "list", "revoke", "stats", "demo"]) {
      const result = await cli(command, "--help");
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`Usage: pgsession ${command}`);
      expect(result.stdout).toContain("--json");
    }
    const bare = await cli();
    expect(bare.code).toBe(2);
    expect(bare.stdout).toContain("Commands:");
    const help = await cli("--help");
    expect(help.code).toBe(0);
  });
});

describe("pgsession CLI without a database setting", { timeout: 120_000 }, () => {
  let cwd: string;
  beforeAll(() => {
    cwd = mkdtempSync(join(tmpdir(), "pgsession-cli-nodb-"));
  });
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));
  const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { env: cleanEnv(env), cwd, timeoutMs: 30_000 });

  it.each<[string[]]>([
    [["migrate"]],
    [["prune"]],
    [["revoke", "--user", "alice"]],
    [["status"]],
    [["list", "--user", "alice"]],
    [["stats"]],
  ])("pgsession %j refuses (exit 2) and creates nothing", async (args) => {
    const result = await cli(args);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain(`pgsession ${args[0]}: no database given: set DATABASE_URL (e.g. DATABASE_URL=postgres://`);
    expect(result.stderr).toContain("--database-url URL");
    expect(result.stderr).toContain("--pglite [DIR]");
    expect(result.stderr).toContain(`Run \`pgsession ${args[0]} --help\``);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it.each<[string[], Record<string, string>, string]>([
    [["status"], { DATABASE_URL: "" }, "DATABASE_URL is empty: give a PostgreSQL URL, e.g. DATABASE_URL=postgres://"],
    [
      ["stats"],
      { DATABASE_URL: "mysql://root:hunter2@db/app" },
      'DATABASE_URL must be a postgres:// or postgresql:// URL, not "mysql:..."',
    ],
    [["list", "--user", "a"], { DATABASE_URL: "postgres://u:hunter2@db:port/app" }, "DATABASE_URL cannot be parsed as a URL"],
    [["migrate", "--database-url", "http://db/app"], {}, '--database-url must be a postgres:// or postgresql:// URL, not "http:..."'],
    [["prune", "--database-url="], { DATABASE_URL: "postgres://ignored/db" }, "--database-url is empty"],
  ])("pgsession %j with %j is a usage error naming the setting", async (args, env, message) => {
    const result = await cli(args, env);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).toMatch(/e\.g\. (DATABASE_URL=|--database-url )postgres:\/\/user:password@localhost:5432\/app/);
    expect(result.stderr).not.toContain("hunter2");
    expect(result.stdout).toBe("");
    expect(readdirSync(cwd)).toEqual([]);
  });

  it("--json reports the refusal as JSON too", async () => {
    const result = await cli(["status", "--json"]);
    expect(result.code).toBe(2);
    expect(parseJson<{ error: { code: string; message: string } }>(result).error).toMatchObject({ code: "ERR_CLI_USAGE" });
    expect(readdirSync(cwd)).toEqual([]);
  });

  it.each([
    [["status", "--pglite"], ".pgsession"],
    [["list", "--user", "alice", "--pglite", "data/sessions"], "data/sessions"],
    [["stats", "--data-dir", "data"], "data"],
    [["prune", "--pglite"], ".pgsession"],
    [["revoke", "--session", "x", "--pglite"], ".pgsession"],
  ])("pgsession %j on a directory without a database exits 5 and creates nothing", async (args, dir) => {
    // The flag wins over DATABASE_URL: it points nowhere, and is never contacted.
    const result = await cli(args, { DATABASE_URL: "postgres://postgres@127.0.0.1:1/none" });
    expect(result.code, result.stderr).toBe(5);
    expect(result.stderr).toContain(`no database at ${join(cwd, dir)}; nothing was created`);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it("an existing empty directory is not turned into a database either", async () => {
    mkdirSync(join(cwd, "empty"));
    try {
      const result = await cli(["status", "--pglite", "empty", "--json"]);
      expect(result.code).toBe(5);
      expect(parseJson(result)).toMatchObject({ error: { code: "ERR_CLI_NO_DATABASE", exitCode: 5 } });
      expect(readdirSync(join(cwd, "empty"))).toEqual([]);
    } finally {
      rmSync(join(cwd, "empty"), { recursive: true });
    }
  });

  it.each([["abc"], ["70000"], [""]])("pgsession demo with PORT=%j exits 2 naming PORT, before opening anything", async (port) => {
    const result = await cli(["demo"], { PORT: port });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain(`PORT must be a whole number from 0 to 65535, not ${JSON.stringify(port)} (e.g. PORT=8080`);
    expect(readdirSync(cwd)).toEqual([]);
  });
});
