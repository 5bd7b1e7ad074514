/**
 * The behaviour every adapter must show, run on the real PostgreSQL server (skipped
 * without one), directly and through pgbouncer in transaction mode with pg and
 * postgres.js, and on PGlite (in memory, so a machine without PostgreSQL still covers it),
 * each suite in a schema of its own. An adapter test calls `runAdapterContract` with a
 * function that serves `handleRoute` (routes.ts) through its framework.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSessions, type Sessions } from "../../src/index.js";
import type { SessionsOptions } from "../../src/manager/options.js";
import type { SessionData } from "../../src/session/session.js";
import { hashToken } from "../../src/session/token.js";
import type { StoreDriver } from "../../src/driver.js";
import { pgStore } from "../../src/store/pg.js";
import { canRun, DATABASE_URL, pgliteTarget, pgTarget, uniqueSchema, type TargetKind, type TestTarget } from "../support/db.js";
import { pooledTargets } from "../support/pooler.js";
import { Browser, closedPort, parseSetCookie, type Send } from "./client.js";
import type { AppData } from "./routes.js";

export interface AppUnderTest {
  send: Send;
  close(): Promise<void>;
}

export type Serve = (sessions: Sessions<AppData>) => Promise<AppUnderTest>;

const COOKIE = "sid";

/** The databases the contract runs on: the server directly, through pgbouncer in transaction mode (pg and postgres.js), and PGlite. */
const DATABASES: TargetKind[] = [
  { name: "PostgreSQL", needsServer: true, make: pgTarget },
  ...pooledTargets,
  { name: "PGlite", needsServer: false, make: pgliteTarget },
];

/** Options of the sessions under test: a custom name and attributes to check exactly. */
export function testOptions(schema: string, store: NonNullable<SessionsOptions["store"]>): SessionsOptions {
  return { store, schema, cookie: { name: COOKIE, sameSite: "strict", priority: "high" } };
}

/** The sessions of one suite, in a schema of their own (see {@link suiteSessions}). */
export interface SuiteSessions<Data extends SessionData> {
  readonly pool: pg.Pool;
  readonly schema: string;
  /** Set before the suite's first test. */
  readonly sessions: Sessions<Data>;
}

/**
 * Sessions for the suite it is called in, on the real server: created and migrated before
 * its tests, their schema dropped after. `options` builds them (default {@link testOptions}).
 */
export function suiteSessions<Data extends SessionData = AppData>(
  prefix: string,
  options: (schema: string, store: NonNullable<SessionsOptions["store"]>) => SessionsOptions = testOptions,
): SuiteSessions<Data> {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
  const suite = { pool, schema: uniqueSchema(prefix), sessions: undefined as unknown as Sessions<Data> };
  beforeAll(async () => {
    suite.sessions = createSessions<Data>(options(suite.schema, pgStore(pool)));
    await suite.sessions.migrate();
  });
  afterAll(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS ${suite.schema} CASCADE`);
    await pool.end();
  });
  return suite;
}

/** Runs the contract for the adapter `serve` puts in front, once on each database. */
export function runAdapterContract(name: string, serve: Serve): void {
  for (const database of DATABASES) runOn(database, name, serve);
}

function runOn(database: TargetKind, name: string, serve: Serve): void {
  describe.skipIf(!canRun(database))(`${name} adapter on ${database.name}`, () => {
    const schema = uniqueSchema(name.replace(/\W/g, "_"));
    let target: TestTarget;
    let store: StoreDriver;
    let sessions: Sessions<AppData>;
    let app: AppUnderTest;
    const browser = () => new Browser(app.send, COOKIE);
    const rows = async (token: string) => {
      const count = `SELECT count(*)::int AS n FROM ${schema}.sessions WHERE token_hash = decode($1, 'hex') OR prev_token_hash = decode($1, 'hex')`;
      return (await target.sql(count, [hashToken(token)]))[0]?.n;
    };

    beforeAll(async () => {
      target = database.make();
      store = await target.open();
      sessions = createSessions<AppData>({ ...testOptions(schema, store), trustProxy: true });
      await sessions.migrate();
      app = await serve(sessions);
    });
    afterAll(async () => {
      await app?.close();
      if (!target) return;
      await target.sql(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await target.end();
    });

    it("gives a new visitor no cookie until the session has data", async () => {
      const b = browser();
      const peek = await b.request("GET", "/peek");
      expect(peek.status).toBe(200);
      expect(peek.body.isNew).toBe(true);
      expect(peek.setCookies).toEqual([]);
      const inc = await b.request("POST", "/inc");
      expect(inc.setCookies).toHaveLength(1);
      expect(b.cookie).toMatch(/^[A-Za-z0-9_-]{43}$/);
      // A request that changes nothing sends no cookie.
      const again = await b.request("GET", "/peek");
      expect(again.body).toMatchObject({ isNew: false, count: 1 });
      expect(again.setCookies).toEqual([]);
    });

    it("logs in with exactly the configured cookie attributes and a new token", async () => {
      const b = browser();
      await b.request("POST", "/inc");
      const before = b.cookie as string;
      const login = await b.request("POST", "/login?user=alice");
      expect(login.status).toBe(200);
      expect(login.setCookies).toHaveLength(1);
      const { value, name: cookieName, ...attrs } = parseSetCookie(login.setCookies[0] as string);
      expect(cookieName).toBe(COOKIE);
      expect(value).not.toBe(before);
      expect(attrs).toEqual({ path: "/", httponly: "", samesite: "Strict", priority: "High" });
      const peek = await b.request("GET", "/peek");
      expect(peek.body).toMatchObject({ user: "alice", count: 1 });

      const remembered = browser();
      const persistent = parseSetCookie((await remembered.request("POST", "/login?user=bob&remember=1")).setCookies[0] as string);
      expect(Number(persistent["max-age"])).toBeGreaterThan(80 * 86400);
      expect(new Date(persistent.expires as string).getTime()).toBeGreaterThan(Date.now() + 80 * 86400_000);
    });

    it("adds its cookie next to the app's own Set-Cookie", async () => {
      const answer = await browser().request("POST", "/with-cookie");
      expect(answer.setCookies.map((line) => parseSetCookie(line).name).sort()).toEqual(["other", COOKIE]);
    });

    it("keeps responses that set the cookie out of shared caches, unless the app already does", async () => {
      const b = browser();
      const created = await b.request("POST", "/inc");
      expect(created.setCookies).toHaveLength(1);
      expect(created.cacheControl).toBe("no-store");
      const read = await b.request("GET", "/peek");
      expect(read.setCookies).toEqual([]);
      expect(read.cacheControl).toBeNull();
      const login = await b.request("POST", "/login?user=cc");
      expect(login.cacheControl).toBe("no-store");
      const logout = await b.request("POST", "/logout");
      expect(logout.setCookies).toHaveLength(1);
      expect(logout.cacheControl).toBe("no-store");

      const kept = await browser().request("POST", "/cached?cc=private,%20max-age=60");
      expect(kept.setCookies).toHaveLength(1);
      expect(kept.cacheControl).toBe("private, max-age=60");
      const replaced = await browser().request("POST", "/cached?cc=public,%20max-age=60");
      expect(replaced.setCookies).toHaveLength(1);
      expect(replaced.cacheControl).toBe("no-store");
    });

    it("marks the cookie Secure only when a trusted proxy says https", async () => {
      const b = browser();
      const plain = await b.request("POST", "/inc");
      expect(parseSetCookie(plain.setCookies[0] as string)).not.toHaveProperty("secure");
      const viaProxy = await browser().request("POST", "/inc", { "x-forwarded-proto": "https" });
      expect(parseSetCookie(viaProxy.setCookies[0] as string)).toHaveProperty("secure");
    });

    it("answers a forged or stale cookie with a fresh session and never stores the forged value", async () => {
      const b = browser();
      const forged = "A".repeat(42) + "A";
      b.cookie = forged;
      const peek = await b.request("GET", "/peek");
      expect(peek.body.isNew).toBe(true);
      await b.request("POST", "/inc");
      expect(b.cookie).not.toBe(forged);
      expect(await rows(forged)).toBe(0);
      for (const junk of ['"quoted"', "x".repeat(5000), "%FF%FE", "a b"]) {
        const j = browser();
        j.cookie = junk;
        expect((await j.request("GET", "/peek")).body.isNew).toBe(true);
      }
      const dup = await app.send("GET", "/peek", { cookie: `${COOKIE}=${b.cookie}; ${COOKIE}=${b.cookie}` });
      expect(((await dup.json()) as { isNew: boolean }).isNew).toBe(true);
      // A stale cookie: its session expired (by the database clock).
      const stale = b.cookie as string;
      await target.sql(`UPDATE ${schema}.sessions SET idle_expires_at = now() - interval '1 second' WHERE token_hash = decode($1, 'hex')`, [
        hashToken(stale),
      ]);
      expect((await b.request("GET", "/peek")).body).toMatchObject({ isNew: true, count: 0 });
      await b.request("POST", "/inc");
      expect(b.cookie).not.toBe(stale);
      expect((await b.request("GET", "/peek")).body).toMatchObject({ isNew: false, count: 1 });
    });

    it("logs out: clears the cookie, and the old token no longer works from a second client", async () => {
      const b = browser();
      await b.request("POST", "/login?user=carol");
      const token = b.cookie as string;
      const out = await b.request("POST", "/logout");
      expect(out.status).toBe(200);
      expect(parseSetCookie(out.setCookies[0] as string)).toMatchObject({ name: COOKIE, value: "", "max-age": "0" });
      expect(b.cookie).toBeNull();
      const thief = browser();
      thief.cookie = token;
      const peek = await thief.request("GET", "/peek");
      expect(peek.body).toMatchObject({ isNew: true, user: null });
      expect(await rows(token)).toBe(0);
    });

    it("keeps every write of parallel requests", async () => {
      const b = browser();
      await b.request("POST", "/inc");
      const keys = Array.from({ length: 16 }, (_, i) => `k${i}`);
      const answers = await Promise.all(keys.map((key) => b.request("POST", `/set?key=${key}`)));
      expect(answers.map((a) => a.status)).toEqual(keys.map(() => 200));
      const peek = await b.request("GET", "/peek");
      expect(peek.body.keys.sort()).toEqual(["count", ...keys].sort());
    });

    it("answers 409 and clears the cookie when the session is revoked while the request runs", async () => {
      const b = browser();
      await b.request("POST", "/inc");
      const answer = await b.request("POST", "/revoke-self");
      expect(answer.status).toBe(409);
      expect(answer.setCookies.map((line) => parseSetCookie(line)["max-age"])).toEqual(["0"]);
    });

    it("never answers 2xx when the database refuses the write (login or commit): 503, no cookie", async () => {
      const refusing = `${schema}_refuse`;
      const strict = createSessions<AppData>(testOptions(refusing, store));
      await strict.migrate();
      // A real refusal from PostgreSQL: every new row violates this constraint.
      await target.sql(`ALTER TABLE ${refusing}.sessions ADD CONSTRAINT refuse_all CHECK (false) NOT VALID`);
      const broken = await serve(strict);
      try {
        for (const path of ["/login?user=dave", "/inc"]) {
          const answer = await new Browser(broken.send, COOKIE).request("POST", path);
          expect(answer.status).toBe(503);
          expect(answer.setCookies).toEqual([]);
        }
      } finally {
        await broken.close();
        await target.sql(`DROP SCHEMA ${refusing} CASCADE`);
      }
    });

    it("answers 409, never 2xx, when a login finds its session revoked meanwhile", async () => {
      const b = browser();
      await b.request("POST", "/inc");
      const answer = await b.request("POST", "/revoke-login");
      expect(answer.status).toBe(409);
      expect(answer.setCookies.map((line) => parseSetCookie(line).value)).not.toContainEqual(expect.stringMatching(/./));
    });

    it("bug: a login or rotation from a token already rotated away answered 500; now a rotation answers 409 and a login signs in", async () => {
      const b = browser();
      await b.request("POST", "/login?user=erin");
      const rotatedAway = b.cookie as string;
      await b.request("POST", "/rotate");
      const current = b.cookie as string;
      expect(current).not.toBe(rotatedAway);
      // A second tab still holding the old token, inside the grace window.
      const stale = browser();
      stale.cookie = rotatedAway;
      const peek = await stale.request("GET", "/peek");
      expect(peek.body.user).toBe("erin");
      const rotation = await stale.request("POST", "/rotate");
      expect(rotation.status).toBe(409);
      expect(rotation.setCookies).toEqual([]);
      const login = await stale.request("POST", "/login?user=erin");
      expect(login.status).toBe(200);
      expect(stale.cookie).not.toBe(rotatedAway);
      expect((await stale.request("GET", "/peek")).body).toMatchObject({ user: "erin", isNew: false });
      expect((await b.request("GET", "/peek")).body.user).toBe("erin");
      expect(b.cookie).toBe(current);
    });

    it("a request still carrying the token a login replaced sees no session, and cannot replace the login's cookie", async () => {
      const b = browser();
      await b.request("POST", "/inc");
      const beforeLogin = b.cookie as string;
      await b.request("POST", "/login?user=fay");
      const loggedIn = b.cookie as string;
      // Another tab's request, sent before the login answered, arrives after it.
      const late = browser();
      late.cookie = beforeLogin;
      const peek = await late.request("GET", "/peek");
      expect(peek.body).toMatchObject({ isNew: true, user: null, count: 0 });
      expect(peek.setCookies).toEqual([]);
      const write = await late.request("POST", "/inc");
      expect(write.status).toBe(409);
      expect(write.setCookies).toEqual([]);
      expect((await b.request("GET", "/peek")).body).toMatchObject({ user: "fay", count: 1 });
      expect(b.cookie).toBe(loggedIn);
    });

    it("answers 503 with no Set-Cookie when the database is down", async () => {
      // On every database's run a server nobody answers at: an embedded PGlite has no server to lose.
      const port = await closedPort();
      const unreachable = pgStore({
        connectionString: `postgres://postgres@127.0.0.1:${port}/test`,
        connectionTimeoutMillis: 2000,
        onError: () => {},
      });
      const down = createSessions<AppData>(testOptions(schema, unreachable));
      const broken = await serve(down);
      try {
        const b = new Browser(broken.send, COOKIE);
        const fresh = await b.request("POST", "/inc");
        expect(fresh.status).toBe(503);
        expect(fresh.setCookies).toEqual([]);
        b.cookie = "A".repeat(43);
        const known = await b.request("GET", "/peek");
        expect(known.status).toBe(503);
        expect(known.setCookies).toEqual([]);
        expect(b.cookie).toBe("A".repeat(43));
      } finally {
        await broken.close();
        await down.close();
      }
    });
  });
}
