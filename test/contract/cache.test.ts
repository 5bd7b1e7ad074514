/**
 * Issue 38.3, the read cache, on the real PostgreSQL server: what one instance caches is
 * kept true by the table's triggers, whoever changes the row (another instance, SQL,
 * session_handler, the CLI in another process); expired entries and due touches go to the
 * database; `fresh` bypasses; the LRU bound holds; a table without the triggers leaves the
 * cache bypassed. Every wait is bounded.
 */
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withSession } from "../../src/adapters/node.js";
import {
  createSessions,
  installScript,
  SessionConfigError,
  shippedMigrations,
  type Sessions,
  type SessionsOptions,
} from "../../src/index.js";
import { pgStore } from "../../src/store/pg.js";
import { postgresStore } from "../../src/store/postgres.js";
import { listen } from "../adapters/client.js";
import { cleanEnv, runCli } from "../support/cli.js";
import { DATABASE_URL, hasPostgres, uniqueSchema } from "../support/db.js";

/** Polls `check` every 5 ms until it holds; the milliseconds it took. Throws after `withinMs`. */
async function until(what: string, check: () => Promise<boolean> | boolean, withinMs = 3_000): Promise<number> {
  const started = Date.now();
  for (let attempt = 0; attempt < 100_000; attempt++) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > withinMs) throw new Error(`${what}: not within ${withinMs} ms`);
    await sleep(5);
  }
  throw new Error(`${what}: gave up`);
}

describe.skipIf(!hasPostgres)("the read cache", () => {
  const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 3 });
  const sql = async (text: string, params: unknown[] = []) => (await admin.query(text, params)).rows;
  const schema = uniqueSchema("cache");
  const closers: Array<() => Promise<unknown>> = [];
  let instances = 0;

  /** A manager with the cache on its own pool; its LISTEN connection is named after it. */
  function cached(options: Partial<SessionsOptions> = {}, cache: SessionsOptions["cache"] = {}): Sessions {
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
    pool.on("error", () => {});
    const name = `pgsession_test_${schema}_${++instances}`;
    const sessions = createSessions({
      store: pgStore(pool),
      schema,
      prune: false,
      ...options,
      cache: { heartbeat: "100ms", listen: { connectionString: DATABASE_URL, application_name: name }, ...cache },
    });
    closers.push(async () => {
      await sessions.close();
      await pool.end();
    });
    return sessions;
  }

  /** A manager without the cache, as another instance of the application. */
  function plain(options: Partial<SessionsOptions> = {}): Sessions {
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
    pool.on("error", () => {});
    const sessions = createSessions({ store: pgStore(pool), schema, prune: false, ...options });
    closers.push(async () => {
      await sessions.close();
      await pool.end();
    });
    return sessions;
  }

  /** A stored, logged-in session holding `{ n: 1 }`; its Cookie header. */
  async function newSession(sessions: Sessions, userId = "alice"): Promise<string> {
    const session = await sessions.resolve(undefined);
    session.set("n", 1);
    await session.login(userId);
    return ((await sessions.commit(session)) as string).split(";")[0] as string;
  }

  /** Reads `cookie` until the cache answers it from memory. */
  async function warm(sessions: Sessions, cookie: string): Promise<void> {
    await until("the cache answers", async () => {
      const before = sessions.cacheStatus()?.hits ?? 0;
      await sessions.resolve(cookie);
      return (sessions.cacheStatus()?.hits ?? 0) > before;
    });
  }

  /** Whether one read of `cookie` was answered from memory. */
  async function readIsHit(sessions: Sessions, cookie: string, context = {}): Promise<boolean> {
    const before = sessions.cacheStatus()?.hits ?? 0;
    await sessions.resolve(cookie, context);
    return (sessions.cacheStatus()?.hits ?? 0) > before;
  }

  let a: Sessions;
  let b: Sessions;
  beforeAll(async () => {
    a = cached();
    b = plain();
    expect(await a.migrate()).toEqual(shippedMigrations().map((m) => m.version));
  });
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    await sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });

  it("answers from memory once listening; a write by another instance is seen once its notification arrives", async () => {
    const cookie = await newSession(a);
    await warm(a, cookie);
    expect(await readIsHit(a, cookie)).toBe(true);
    const other = await b.resolve(cookie);
    other.set("n", 2);
    await b.commit(other);
    const ms = await until("the other instance's write is seen", async () => (await a.resolve(cookie)).get("n") === 2);
    expect(ms).toBeLessThan(1_000);
    for (let i = 0; i < 20; i++) expect((await a.resolve(cookie)).get("n")).toBe(2);
    expect(await readIsHit(a, cookie)).toBe(true);
  });

  it("a logout, revokeSession and revokeUserSessions by another instance are refused on the next request after the notification", async () => {
    const cookies = [await newSession(a, "bob"), await newSession(a, "carol"), await newSession(a, "dave")];
    for (const cookie of cookies) await warm(a, cookie);
    const [loggedOut, revoked] = cookies as [string, string, string];
    const session = await b.resolve(loggedOut);
    await session.logout();
    await b.commit(session);
    await b.revokeSession((await b.resolve(revoked)).id);
    await b.revokeUserSessions("dave");
    for (const cookie of cookies) await until("the revocation is seen", async () => (await a.resolve(cookie)).isNew);
  });

  it("own writes are read back from memory: data, a login's new token, a logout", async () => {
    const cookie = await newSession(a);
    await warm(a, cookie);
    const session = await a.resolve(cookie);
    session.set("n", 5);
    await a.commit(session);
    expect(await readIsHit(a, cookie)).toBe(true);
    expect((await a.resolve(cookie)).get("n")).toBe(5);
    // The notification of that write (this instance's own) keeps the entry.
    await sleep(100);
    expect(await readIsHit(a, cookie)).toBe(true);
    const again = await a.resolve(cookie);
    await again.login("erin");
    const next = ((await a.commit(again)) as string).split(";")[0] as string;
    expect(await readIsHit(a, next)).toBe(true);
    expect((await a.resolve(next)).userId).toBe("erin");
    expect((await a.resolve(cookie)).isNew).toBe(true); // a login retires the old token at once
    const last = await a.resolve(next);
    await last.logout();
    await a.commit(last);
    expect((await a.resolve(next)).isNew).toBe(true);
    expect((await a.resolve(next, { fresh: true })).isNew).toBe(true);
  });

  it("SQL: a DELETE, an UPDATE of data or user, an expiry moved earlier and a TRUNCATE are seen; a touch notifies nothing", async () => {
    const channel = `pgsession.${schema}.sessions`;
    const listener = new pg.Client({ connectionString: DATABASE_URL });
    await listener.connect();
    const payloads: string[] = [];
    // The relays send changes comma-separated, beside the instances' heartbeats ("~…"), which are not changes.
    listener.on("notification", (message) => payloads.push(...(message.payload ?? "").split(",").filter((part) => !part.startsWith("~"))));
    await listener.query(`LISTEN "${channel}"`);
    try {
      const table = `"${schema}".sessions`;
      const cookie = await newSession(a);
      const id = (await a.resolve(cookie)).id;
      /** Runs `change` on a session the cache holds, then waits until `check` sees it. */
      const seen = async (change: string, check: (s: Awaited<ReturnType<Sessions["resolve"]>>) => boolean) => {
        await warm(a, cookie);
        await sql(change, [id]);
        return until(`${change} is seen`, async () => check(await a.resolve(cookie)));
      };
      await seen(`UPDATE ${table} SET data = data || '{"n": 42}' WHERE id = $1`, (s) => s.get("n") === 42);
      await seen(`UPDATE ${table} SET user_id = 'mallory' WHERE id = $1`, (s) => s.userId === "mallory");
      // A touch by hand, as the read's touch function writes it: no notification.
      payloads.length = 0;
      await sql(
        `UPDATE ${table} SET last_seen_at = now(), idle_expires_at = least(now() + idle_timeout, absolute_expires_at) WHERE id = $1`,
        [id],
      );
      await sql(`NOTIFY "${channel}", 'marker'`);
      await until("the marker arrives", () => payloads.includes("marker"));
      expect(payloads).toEqual(["marker"]);
      await seen(`UPDATE ${table} SET idle_expires_at = now() - interval '1 second' WHERE id = $1`, (s) => s.isNew);
      const second = await newSession(a);
      await warm(a, second);
      await sql(`TRUNCATE ${table}`);
      await until("the TRUNCATE is seen", async () => (await a.resolve(second)).isNew);
      const third = await newSession(a);
      await warm(a, third);
      await sql(`DELETE FROM ${table}`);
      await until("the DELETE is seen", async () => (await a.resolve(third)).isNew);
    } finally {
      await listener.end();
    }
  });

  it("session_handler's sessions are cached, its touches keep them, and a revocation in SQL ends them", async () => {
    const [{ token }] = await sql(`SELECT "${schema}".session_handler(NULL) AS token`);
    const cookie = `session=${token as string}`;
    await warm(a, cookie);
    await sql(`SELECT "${schema}".session_handler($1)`, [token]);
    expect(await readIsHit(a, cookie)).toBe(true);
    await sql(`DELETE FROM "${schema}".sessions WHERE token_hash = "${schema}".token_hash($1)`, [token]);
    await until("the SQL revocation is seen", async () => (await a.resolve(cookie)).isNew);
  });

  it("`pgsession revoke` in another process is seen", async () => {
    const cookie = await newSession(a);
    await warm(a, cookie);
    const id = (await a.resolve(cookie)).id;
    const result = await runCli(["revoke", "--session", id, "--schema", schema, "--json"], {
      env: cleanEnv({ DATABASE_URL }),
      cwd: tmpdir(),
      timeoutMs: 45_000,
    });
    expect(result.code).toBe(0);
    await until("the CLI's revocation is seen", async () => (await a.resolve(cookie)).isNew);
  }, 60_000);

  it("fresh reads, and the adapters' fresh routes, go to the database", async () => {
    const cookie = await newSession(a);
    await warm(a, cookie);
    expect(await readIsHit(a, cookie, { fresh: true })).toBe(false);
    const server = await listen(
      createServer(withSession(a, (req, res, session) => res.end(String(session.get("n"))), { fresh: (req) => req.url === "/account" })),
    );
    try {
      const hits = async (path: string) => {
        const before = a.cacheStatus()?.hits ?? 0;
        const response = await fetch(`${server.base}${path}`, { headers: { cookie } });
        expect(await response.text()).toBe("1");
        return (a.cacheStatus()?.hits ?? 0) - before;
      };
      expect(await hits("/")).toBe(1);
      expect(await hits("/account")).toBe(0);
    } finally {
      await server.close();
    }
  });

  it("holds at most maxEntries", async () => {
    const small = cached({}, { maxEntries: 5 });
    const cookies: string[] = [];
    for (let i = 0; i < 20; i++) cookies.push(await newSession(small, `lru${i}`));
    await warm(small, cookies[0] as string);
    for (const cookie of cookies) await small.resolve(cookie);
    expect(small.cacheStatus()).toMatchObject({ entries: 5, maxEntries: 5 });
    expect(await readIsHit(small, cookies[19] as string)).toBe(true);
    expect(await readIsHit(small, cookies[0] as string)).toBe(false);
  });

  it("a login that trims the user's sessions (maxSessionsPerUser) drops their entries at once", async () => {
    const limited = cached({ maxSessionsPerUser: 1 });
    const first = await newSession(limited, "frank");
    await warm(limited, first);
    await newSession(limited, "frank");
    expect((await limited.resolve(first)).isNew).toBe(true);
  });

  it("listens through a postgres.js store too (cache.listen), and refuses a store it cannot listen beside", async () => {
    const client = postgres(DATABASE_URL, { max: 2, onnotice: () => {} });
    const sessions = createSessions({
      store: postgresStore(client),
      schema,
      prune: false,
      cache: { listen: DATABASE_URL, heartbeat: "100ms" },
    });
    try {
      const cookie = await newSession(sessions);
      await warm(sessions, cookie);
      await sql(`DELETE FROM "${schema}".sessions WHERE id = $1`, [(await sessions.resolve(cookie)).id]);
      await until("the DELETE is seen", async () => (await sessions.resolve(cookie)).isNew);
    } finally {
      await sessions.close();
      await client.end();
    }
    expect(() => createSessions({ store: postgresStore(client), cache: {} })).toThrow(SessionConfigError);
    // Without a store: the embedded PGlite database (not even started, the check comes first).
    expect(() => createSessions({ cache: { listen: DATABASE_URL } })).toThrow(/PGlite/);
  });

  describe("the triggers", () => {
    const other = uniqueSchema("nocache");
    afterAll(async () => {
      await sql(`DROP SCHEMA IF EXISTS "${other}" CASCADE`);
    });
    const triggers = async (of: string) =>
      (await sql(`SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = to_regclass($1) ORDER BY tgname`, [`"${of}".sessions`])).map(
        (row) => `${row.tgname as string}:${row.tgenabled as string}`,
      );

    it("are made by migrate() only with the cache, and without them the cache stays bypassed (saying so once) until they are", async () => {
      const warnings: string[] = [];
      const warn = console.warn;
      console.warn = (message: string) => void warnings.push(String(message));
      const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
      const sessions = createSessions({ store: pgStore(pool), schema: other, prune: false, cache: { heartbeat: "100ms" } });
      try {
        await sessions.migrate({ cache: false });
        expect(await triggers(other)).toEqual([]);
        const cookie = await newSession(sessions);
        await sessions.resolve(cookie);
        await until("the missing triggers are reported", () => warnings.some((line) => line.includes(other)));
        await sleep(300);
        const ours = () => warnings.filter((line) => line.includes(`"${other}"."sessions"`));
        expect(ours()).toEqual([expect.stringContaining("has no change triggers")]);
        expect(await readIsHit(sessions, cookie)).toBe(false);
        expect(sessions.cacheStatus()?.answering).toBe(false);
        await sessions.migrate();
        expect(await triggers(other)).toEqual(["sessions_cache_v1_delete:A", "sessions_cache_v1_truncate:A", "sessions_cache_v1_update:A"]);
        await warm(sessions, cookie);
        expect(ours().at(-1)).toMatch(/active again/);
        // Running it again changes nothing; a later migrate without the cache leaves them.
        await createSessions({ store: pgStore(pool), schema: other }).migrate();
        await sessions.migrate();
        expect(await triggers(other)).toHaveLength(3);
      } finally {
        console.warn = warn;
        await sessions.close();
        await pool.end();
      }
    });

    it("are in the install script with --cache, and `pgsession migrate --cache` makes them", async () => {
      const scripted = uniqueSchema("script");
      try {
        await sql(installScript({ schema: scripted, cache: true }));
        await sql(installScript({ schema: scripted, cache: true }));
        expect(await triggers(scripted)).toHaveLength(3);
        expect(() => installScript({ cache: true, only: 1 })).toThrow(SessionConfigError);
      } finally {
        await sql(`DROP SCHEMA IF EXISTS "${scripted}" CASCADE`);
      }
      const cli = uniqueSchema("cli");
      try {
        const result = await runCli(["migrate", "--cache", "--schema", cli], {
          env: cleanEnv({ DATABASE_URL }),
          cwd: tmpdir(),
          timeoutMs: 45_000,
        });
        expect(result.code).toBe(0);
        expect(await triggers(cli)).toHaveLength(3);
      } finally {
        await sql(`DROP SCHEMA IF EXISTS "${cli}" CASCADE`);
      }
    }, 60_000);
  });
});

describe.skipIf(!hasPostgres)("the read cache on an injected clock", () => {
  const schema = uniqueSchema("cacheclock");
  const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  let now = Date.parse("2030-01-01T00:00:00Z");
  const sessions = createSessions({
    store: pgStore(pool),
    schema,
    prune: false,
    now: () => new Date(now),
    idleTimeout: "1h",
    touchAfter: "10m",
    cache: { heartbeat: "100ms" },
  });
  afterAll(async () => {
    await sessions.close();
    await pool.end();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });

  it("answers until a touch is due, then reads (and touches) in the database; an expired session is not answered", async () => {
    await sessions.migrate();
    const session = await sessions.resolve(undefined);
    session.set("n", 1);
    const cookie = ((await sessions.commit(session)) as string).split(";")[0] as string;
    await until("the cache answers", async () => {
      const before = sessions.cacheStatus()?.hits ?? 0;
      await sessions.resolve(cookie);
      return (sessions.cacheStatus()?.hits ?? 0) > before;
    });
    const touched: string[] = [];
    sessions.on("touched", ({ id }) => void touched.push(id));
    const hits = () => sessions.cacheStatus()?.hits ?? 0;
    now += 9 * 60_000;
    let before = hits();
    await sessions.resolve(cookie);
    expect(hits()).toBe(before + 1);
    now += 60_000; // touchAfter since the last touch: due
    before = hits();
    expect((await sessions.resolve(cookie)).get("n")).toBe(1);
    expect(hits()).toBe(before);
    expect(touched).toHaveLength(1);
    before = hits();
    await sessions.resolve(cookie);
    expect(hits()).toBe(before + 1);
    now += 61 * 60_000; // past the idle timeout
    expect((await sessions.resolve(cookie)).isNew).toBe(true);
  });
});
