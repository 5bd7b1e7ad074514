/**
 * The NestJS examples (examples/nest/: one module, served on Express through
 * `pgsession/express` and on Fastify through `pgsession/fastify`), each started as its own
 * process on a free loopback port, over real HTTP: on the PostgreSQL server in a schema of
 * its own, and once more with the database unreachable.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DATABASE_URL, hasPostgres, uniqueSchema } from "../support/db.js";
import { startExample, type ExampleProcess } from "../support/example-process.js";

// tsx reads one tsconfig for the whole process: the examples' own, for Nest's legacy decorators.
const NEST = { TSX_TSCONFIG_PATH: "examples/nest/tsconfig.json", PORT: "0" };
// Nothing listens on port 1: every query fails at once with ECONNREFUSED.
const UNREACHABLE = "postgres://postgres@127.0.0.1:1/test";

function cookieOf(response: Response): string {
  return (response.headers.getSetCookie()[0] ?? "").split(";")[0] as string;
}

/** Starts all of `starts`; if one fails, stops the others before rethrowing. */
async function startAll(starts: Array<Promise<ExampleProcess>>): Promise<ExampleProcess[]> {
  const settled = await Promise.allSettled(starts);
  const failed = settled.find((result) => result.status === "rejected");
  if (!failed) return settled.map((result) => (result as PromiseFulfilledResult<ExampleProcess>).value);
  await Promise.all(settled.map((result) => (result.status === "fulfilled" ? result.value.stop() : undefined)));
  throw failed.reason;
}

const PLATFORMS = ["express", "fastify"] as const;

describe.skipIf(!hasPostgres)("NestJS examples", () => {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
  const schemas = PLATFORMS.map((platform) => uniqueSchema(`ex_nest_${platform}`));
  // Per platform: the app on its schema, and the app with the database unreachable.
  const apps = new Map<string, { app: ExampleProcess; down: ExampleProcess }>();

  // All four start at once: most of a start is loading Nest and compiling TypeScript.
  beforeAll(async () => {
    const started = await startAll(
      PLATFORMS.flatMap((platform, i) => [
        startExample(`examples/nest/${platform}.ts`, { ...NEST, DATABASE_URL, PGSESSION_SCHEMA: schemas[i] }),
        // Migrated at deploy time, as it were: the app starts without asking the database.
        startExample(`examples/nest/${platform}.ts`, { ...NEST, DATABASE_URL: UNREACHABLE, PGSESSION_MIGRATE: "0" }),
      ]),
    );
    PLATFORMS.forEach((platform, i) => apps.set(platform, { app: started[2 * i]!, down: started[2 * i + 1]! }));
  }, 90_000);
  afterAll(async () => {
    await Promise.all([...apps.values()].flatMap(({ app, down }) => [app.stop(), down.stop()]));
    for (const schema of schemas) await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pool.end();
  });

  for (const platform of PLATFORMS) {
    describe(`on ${platform}`, () => {
      let app: ExampleProcess;
      let down: ExampleProcess;
      beforeAll(() => {
        ({ app, down } = apps.get(platform)!);
      });

      const send = (target: ExampleProcess, path: string, options: { cookie?: string; body?: unknown } = {}): Promise<Response> =>
        fetch(target.base + path, {
          method: options.body === undefined ? "GET" : "POST",
          headers: {
            origin: target.base,
            ...(options.body !== undefined && { "content-type": "application/json" }),
            ...(options.cookie && { cookie: options.cookie }),
          },
          ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
        });

      it("gives a visitor no cookie until a write, and keeps the counter", async () => {
        const first = await send(app, "/counter");
        expect(first.status).toBe(200);
        expect(await first.json()).toEqual({ visits: 0 });
        expect(first.headers.getSetCookie()).toEqual([]);

        const counted = await send(app, "/counter", { body: {} });
        expect(counted.status).toBe(200);
        expect(await counted.json()).toEqual({ visits: 1 });
        const cookie = cookieOf(counted);
        expect(cookie).toMatch(/^session=.+/);
        expect(counted.headers.get("cache-control")).toBe("no-store");

        expect(await (await send(app, "/counter", { cookie, body: {} })).json()).toEqual({ visits: 2 });
        expect(await (await send(app, "/counter", { cookie })).json()).toEqual({ visits: 2 });
      });

      it("guards a route (401, then 200 once signed in); login rotates the cookie, logout clears it", async () => {
        const cookie = cookieOf(await send(app, "/counter", { body: {} }));
        const refused = await send(app, "/me", { cookie });
        expect(refused.status).toBe(401);
        expect(await refused.json()).toMatchObject({ statusCode: 401 });
        expect(refused.headers.getSetCookie()).toEqual([]);

        const login = await send(app, "/login", { cookie, body: { name: "alice" } });
        expect(login.status).toBe(200);
        expect(await login.json()).toEqual({ user: "alice" });
        const signedIn = cookieOf(login);
        expect(signedIn).toMatch(/^session=.+/);
        expect(signedIn).not.toBe(cookie);

        const me = await send(app, "/me", { cookie: signedIn });
        expect(me.status).toBe(200);
        expect(await me.json()).toEqual({ user: "alice", visits: 1 });

        const logout = await send(app, "/logout", { cookie: signedIn, body: {} });
        expect(logout.status).toBe(200);
        expect(logout.headers.getSetCookie()[0]).toMatch(/^session=; Max-Age=0/);
        expect((await send(app, "/me", { cookie: signedIn })).status).toBe(401);
      });

      it("refuses a cross-site POST with 403 before the session is read", async () => {
        const forged = await fetch(app.base + "/login", {
          method: "POST",
          headers: { origin: "http://evil.example", "sec-fetch-site": "cross-site", "content-type": "application/json" },
          body: JSON.stringify({ name: "mallory" }),
        });
        expect(forged.status).toBe(403);
        expect(forged.headers.getSetCookie()).toEqual([]);
      });

      it("answers 503 with no Set-Cookie when the database is unreachable", async () => {
        // A cookieless visitor who only reads needs no query.
        expect((await send(down, "/counter")).status).toBe(200);
        const cookie = cookieOf(await send(app, "/counter", { body: {} }));
        const answers = {
          "a write, at commit": await send(down, "/counter", { body: {} }),
          "a session to read": await send(down, "/me", { cookie }),
          // Thrown in the handler: answered by the example's SessionErrorFilter, not as Nest's 500.
          "a login": await send(down, "/login", { body: { name: "alice" } }),
        };
        for (const [what, response] of Object.entries(answers)) {
          expect(response.status, what).toBe(503);
          expect(response.headers.getSetCookie(), what).toEqual([]);
          expect(response.headers.get("retry-after"), what).toBe("5");
        }
        expect(down.child.exitCode, down.output()).toBeNull();
      });
    });
  }
});
