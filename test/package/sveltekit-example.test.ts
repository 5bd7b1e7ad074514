/**
 * examples/sveltekit, built as an application builds it (`vite build` with adapter-node) and
 * started with Node on a free loopback port, driven over real HTTP: the counter persists,
 * login rotates the cookie and its redirect carries it, logout clears it, a handle after
 * sessionHandle in sequence() sees the session, and a second server whose database cannot be
 * reached answers 503 without touching the cookie. Its TypeScript (App.Locals typed by
 * SessionLocals) is type-checked with the tsconfig SvelteKit generates.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSessions } from "../../src/index.js";
import { pgStore } from "../../src/store/pg.js";
import { closedPort } from "../adapters/client.js";
import { DATABASE_URL, hasPostgres, uniqueSchema } from "../support/db.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const APP = join(ROOT, "examples/sveltekit");

/** This process's environment for a child, without what vitest set (Vite and Svelte read VITEST and NODE_ENV). */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("VITEST")));
  return { ...env, NODE_ENV: "production", ...extra };
}

/** Runs a program to its end, killed after `timeoutMs`; rejects with its output unless it exits with 0. */
async function runToEnd(args: string[], timeoutMs: number): Promise<void> {
  const child = spawn(process.execPath, args, { cwd: APP, env: childEnv({}), stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const [code] = await once(child, "exit");
  clearTimeout(timer);
  if (code !== 0) throw new Error(`${args.join(" ")} exited with ${code}:\n${output}`);
}

/** Starts the built app (adapter-node's build/index.js) on a free loopback port; resolves once it listens. */
async function start(databaseUrl: string, schema: string): Promise<{ child: ChildProcess; base: string }> {
  const port = await closedPort();
  // adapter-node takes the origin from ORIGIN, else https:// and the Host header.
  const base = `http://127.0.0.1:${port}`;
  const env = childEnv({ HOST: "127.0.0.1", PORT: String(port), ORIGIN: base, DATABASE_URL: databaseUrl, PGSESSION_SCHEMA: schema });
  const child = spawn(process.execPath, ["build/index.js"], { cwd: APP, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the app did not start in 15 s:\n${output}`)), 15_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(`Listening on http://127.0.0.1:${port}`)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the app exited with ${code}:\n${output}`));
    });
  });
  return { child, base };
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGKILL");
  await once(child, "exit");
}

const cookieOf = (response: Response) => (response.headers.getSetCookie()[0] ?? "").split(";")[0] as string;
const visitsIn = (html: string) => /id="visits">(\d+)</.exec(html)?.[1];

describe.skipIf(!hasPostgres)("the SvelteKit example, built and served by adapter-node", () => {
  const schema = uniqueSchema("ex_sveltekit");
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
  let app: { child: ChildProcess; base: string } | undefined;
  let down: { child: ChildProcess; base: string } | undefined;
  let typecheck: Promise<unknown> = Promise.resolve(null);

  beforeAll(async () => {
    const sessions = createSessions({ store: pgStore(pool), schema });
    await Promise.all([sessions.migrate(), runToEnd(["../../node_modules/vite/bin/vite.js", "build", "--logLevel", "warn"], 90_000)]);
    // Checked while the servers answer; the last test awaits it.
    typecheck = runToEnd(["../../node_modules/typescript/bin/tsc", "-p", "tsconfig.json"], 90_000).then(
      () => null,
      (err: unknown) => err,
    );
    [app, down] = await Promise.all([start(DATABASE_URL, schema), start("postgres://postgres@127.0.0.1:1/test", schema)]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([stop(app?.child), stop(down?.child), typecheck]);
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pool.end();
  });

  /** A form post to an action of the home page, as a browser sends it from that page. */
  function action(base: string, name: string, cookie?: string, form: Record<string, string> = {}): Promise<Response> {
    return fetch(`${base}/?/${name}`, {
      method: "POST",
      redirect: "manual",
      body: new URLSearchParams(form),
      headers: { origin: base, accept: "text/html", ...(cookie && { cookie }) },
    });
  }
  const page = async (base: string, cookie?: string) => (await fetch(base + "/", cookie ? { headers: { cookie } } : {})).text();

  it("counts, logs in with a new cookie on the redirect, and logs out", async () => {
    const { base } = app!;
    const home = await fetch(base + "/");
    expect(home.status).toBe(200);
    expect(home.headers.getSetCookie()).toEqual([]);
    expect(visitsIn(await home.text())).toBe("0");

    const counted = await action(base, "count");
    expect(counted.status).toBe(200);
    expect(counted.headers.get("cache-control")).toBe("no-store");
    const cookie = cookieOf(counted);
    expect(cookie).toMatch(/^session=[\w-]{43}$/);
    expect(visitsIn(await counted.text())).toBe("1");
    expect((await action(base, "count", cookie)).headers.getSetCookie()).toEqual([]);
    expect(visitsIn(await page(base, cookie))).toBe("2");

    const login = await action(base, "login", cookie, { name: "alice" });
    expect(login.status).toBe(303);
    expect(login.headers.get("location")).toBe("/");
    const loggedIn = cookieOf(login);
    expect(loggedIn).toMatch(/^session=[\w-]{43}$/);
    expect(loggedIn).not.toBe(cookie);
    const signedIn = await page(base, loggedIn);
    expect(signedIn).toContain('Signed in as <b id="user">alice</b>');
    expect(visitsIn(signedIn)).toBe("2");
    expect(await page(base, cookie)).toContain("Not signed in");

    const logout = await action(base, "logout", loggedIn);
    expect(logout.status).toBe(303);
    expect(logout.headers.getSetCookie()[0]).toMatch(/^session=; Max-Age=0/);
    expect(await page(base, loggedIn)).toContain("Not signed in");
  });

  it("runs a handle after sessionHandle in sequence() with the session on locals", async () => {
    const { base } = app!;
    const anonymous = await fetch(base + "/account", { redirect: "manual" });
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get("location")).toBe("/");
    const cookie = cookieOf(await action(base, "login", undefined, { name: "<b>bob</b>" }));
    const account = await fetch(base + "/account", { headers: { cookie } });
    expect(account.status).toBe(200);
    expect(await account.text()).toContain('Account of <b id="user">&lt;b>bob&lt;/b></b>');
  });

  it("refuses a cross-site form post (SvelteKit's own check) and changes nothing", async () => {
    const { base } = app!;
    const response = await fetch(`${base}/?/count`, {
      method: "POST",
      body: new URLSearchParams(),
      headers: { origin: "http://evil.example", accept: "text/html" },
    });
    expect(response.status).toBe(403);
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it("answers 503 with no Set-Cookie when the database cannot be reached", async () => {
    const { base } = down!;
    const known = await fetch(base + "/", { headers: { cookie: `session=${"A".repeat(43)}` } });
    expect(known.status).toBe(503);
    expect(known.headers.getSetCookie()).toEqual([]);
    const counted = await action(base, "count");
    expect(counted.status).toBe(503);
    expect(counted.headers.getSetCookie()).toEqual([]);
    expect(down!.child.exitCode).toBeNull();
  });

  it("type-checks, locals.session typed through App.Locals", async () => {
    const failure = await typecheck;
    if (failure) throw failure;
  }, 90_000);
});
