/**
 * The Next.js example (examples/next) built and served as in production, driven over real
 * HTTP on loopback. pgsession is installed into the app from this repository's build
 * (examples/next/install-pgsession.ts), then `next build`, then `next start` twice: on the
 * PostgreSQL server in a schema of its own, and on a database nobody answers at.
 *
 * The costliest suite of `npm test` (a Next.js production build): every child process is
 * bounded in time and stopped by its own process group's id.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSessions } from "../../src/index.js";
import { pgStore } from "../../src/store/pg.js";
import { hashToken } from "../../src/session/token.js";
import { installPgsession } from "../../examples/next/install-pgsession.js";
import { closedPort, parseSetCookie } from "../adapters/client.js";
import { DATABASE_URL, hasPostgres, uniqueSchema } from "../support/db.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const APP = join(ROOT, "examples/next");
const NEXT = join(ROOT, "node_modules/next/dist/bin/next");
const ENV = { ...process.env, NEXT_TELEMETRY_DISABLED: "1", NO_COLOR: "1" };

/** A child process in a process group of its own, its output kept. */
interface Child {
  readonly child: ChildProcess;
  output(): string;
  /** Resolves when it has exited; stops its process group (SIGTERM, then SIGKILL after `graceMs`) first if need be. */
  stop(graceMs?: number): Promise<void>;
}

function run(args: string[], env: NodeJS.ProcessEnv): Child {
  const child = spawn(process.execPath, [NEXT, ...args], { cwd: APP, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const signal = (name: NodeJS.Signals) => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, name);
    } catch {
      // already gone
    }
  };
  return {
    child,
    output: () => output,
    async stop(graceMs = 5000) {
      signal("SIGTERM");
      const timer = setTimeout(() => signal("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** `next build`, killed past `limitMs`; rejects with its output unless it succeeds. */
async function build(limitMs: number): Promise<void> {
  const job = run(["build"], ENV);
  const timer = setTimeout(() => void job.stop(0), limitMs);
  const code = await new Promise<number | null>((resolve) => job.child.once("exit", resolve));
  clearTimeout(timer);
  if (code !== 0) throw new Error(`next build failed (exit ${code}):\n${job.output()}`);
}

/** `next start` on a free loopback port; resolves once it serves. */
async function start(env: NodeJS.ProcessEnv, limitMs: number): Promise<Child & { base: string }> {
  const port = await closedPort();
  const server = run(["start", "-H", "127.0.0.1", "-p", String(port)], { ...ENV, ...env });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + limitMs;
  while (!/Ready in/.test(server.output())) {
    if (server.child.exitCode !== null || Date.now() > deadline) {
      await server.stop(0);
      throw new Error(`next start did not get ready:\n${server.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { ...server, base };
}

/** One response, as the tests look at it. */
interface Answer {
  status: number;
  html: string;
  location: string | null;
  setCookies: string[];
}

async function send(base: string, path: string, init: { method?: string; cookie?: string; body?: FormData; origin?: string } = {}) {
  const headers: Record<string, string> = {};
  if (init.cookie !== undefined) headers.cookie = `session=${init.cookie}`;
  if (init.method === "POST") headers.origin = init.origin ?? base;
  const response = await fetch(base + path, { method: init.method ?? "GET", headers, body: init.body ?? null, redirect: "manual" });
  const answer: Answer = {
    status: response.status,
    html: await response.text(),
    location: response.headers.get("location"),
    setCookies: response.headers.getSetCookie(),
  };
  return answer;
}

/** The session token a response sets, or null (none, or a clearing cookie: ""). */
function tokenSet(answer: Answer): string | null {
  const line = answer.setCookies.find((cookie) => cookie.startsWith("session="));
  return line === undefined ? null : (parseSetCookie(line).value as string);
}

/** What the page shows: the user line and the count. */
function shown(answer: Answer): { user: string | undefined; count: number } {
  const user = /<p id="user">([^<]*)<\/p>/.exec(answer.html)?.[1];
  return { user, count: Number(/<b id="count">(\d+)<\/b>/.exec(answer.html)?.[1]) };
}

/** A form with one field, for the login route handler. */
function form(fields: Record<string, string>): FormData {
  const body = new FormData();
  for (const [name, value] of Object.entries(fields)) body.append(name, value);
  return body;
}

describe.skipIf(!hasPostgres)("the Next.js example, built and started (next build + next start)", () => {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  const schema = uniqueSchema("next_app");
  let app: Child & { base: string };
  let down: Child & { base: string };
  /** The hidden field of the counter's Server Action, as the page renders it for a browser without JavaScript. */
  let actionField: string;

  /** Runs the counter's Server Action as a form post without JavaScript does. */
  const increment = (base: string, cookie?: string) =>
    send(base, "/", { method: "POST", ...(cookie !== undefined && { cookie }), body: form({ [actionField]: "" }) });

  const row = async (token: string) =>
    (
      await pool.query(`SELECT xmin::text AS x, last_seen_at, data FROM ${schema}.sessions WHERE token_hash = decode($1, 'hex')`, [
        hashToken(token),
      ])
    ).rows[0] as { x: string; last_seen_at: Date; data: { count?: number } } | undefined;

  beforeAll(async () => {
    const sessions = createSessions({ store: pgStore(pool), schema });
    await sessions.migrate();
    await installPgsession();
    await build(150_000);
    const unreachable = `postgres://postgres@127.0.0.1:${await closedPort()}/test`;
    [app, down] = await Promise.all([
      start({ DATABASE_URL, PGSESSION_SCHEMA: schema }, 30_000),
      start({ DATABASE_URL: unreachable, PGSESSION_SCHEMA: schema }, 30_000),
    ]);
    const page = await send(app.base, "/");
    actionField = /name="(\$ACTION_ID_[0-9a-f]+)"/.exec(page.html)?.[1] as string;
    expect(actionField, page.html).toBeTruthy();
  }, 240_000);

  afterAll(async () => {
    await Promise.all([app?.stop(), down?.stop()]);
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pool.end();
  }, 30_000);

  it("a Server Action creates the session and sets its cookie with pgsession's attributes; the render after it sees the session", async () => {
    const first = await increment(app.base);
    expect(first.status, first.html).toBe(200);
    const token = tokenSet(first) as string;
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(shown(first).count).toBe(1);
    const { name, value: _value, expires, ...attributes } = parseSetCookie(first.setCookies[0] as string);
    expect(name).toBe("session");
    expect(expires).toBeUndefined();
    expect(Object.fromEntries(Object.entries(attributes).map(([key, v]) => [key, v.toLowerCase()]))).toEqual({
      path: "/",
      httponly: "",
      samesite: "lax",
    });
    // The same session again: stored, and no new cookie to send.
    const second = await increment(app.base, token);
    expect(second.setCookies).toEqual([]);
    expect(shown(second).count).toBe(2);
    expect((await row(token))?.data.count).toBe(2);
  });

  it("a Server Component reads the session without Set-Cookie and without a touch, even when one is due; the next write touches", async () => {
    const token = tokenSet(await increment(app.base)) as string;
    await pool.query(
      `UPDATE ${schema}.sessions SET last_seen_at = last_seen_at - interval '3 hours' WHERE token_hash = decode($1, 'hex')`,
      [hashToken(token)],
    );
    const before = await row(token);
    const page = await send(app.base, "/", { cookie: token });
    expect(page.status).toBe(200);
    expect(page.setCookies).toEqual([]);
    expect(shown(page)).toEqual({ user: "Not signed in", count: 1 });
    expect(await row(token)).toEqual(before);

    await increment(app.base, token);
    const after = await row(token);
    expect(after?.last_seen_at.getTime()).toBeGreaterThan((before?.last_seen_at.getTime() ?? 0) + 2 * 3_600_000);
    expect(after?.data.count).toBe(2);
  });

  it("login (a Route Handler) rotates the cookie; the proxy lets the user in; logout clears the cookie", async () => {
    const anonymous = tokenSet(await increment(app.base)) as string;
    const privateBefore = await send(app.base, "/private", { cookie: anonymous });
    expect(privateBefore.status).toBe(303);
    expect(new URL(privateBefore.location as string, app.base).pathname).toBe("/");

    const refused = await send(app.base, "/login", {
      method: "POST",
      cookie: anonymous,
      body: form({ name: "bob" }),
      origin: "http://evil.example",
    });
    expect(refused.status).toBe(403);
    expect(refused.setCookies).toEqual([]);

    const login = await send(app.base, "/login", { method: "POST", cookie: anonymous, body: form({ name: "bob" }) });
    expect(login.status).toBe(303);
    expect(login.location).toBe("/");
    const token = tokenSet(login) as string;
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(token).not.toBe(anonymous);
    expect(shown(await send(app.base, "/", { cookie: token }))).toEqual({ user: "Signed in as bob", count: 1 });
    expect(shown(await send(app.base, "/", { cookie: anonymous })).user).toBe("Not signed in");
    const inside = await send(app.base, "/private", { cookie: token });
    expect(inside.status).toBe(200);
    expect(inside.html).toContain("Private page of bob");

    const logout = await send(app.base, "/logout", { method: "POST", cookie: token });
    expect(logout.status).toBe(303);
    expect(parseSetCookie(logout.setCookies[0] as string)).toMatchObject({ name: "session", value: "", "max-age": "0" });
    expect(await row(token)).toBeUndefined();
    expect(shown(await send(app.base, "/", { cookie: token })).user).toBe("Not signed in");
  });

  it("with the database unreachable: a Route Handler answers 503, the proxy 503, a page and an action fail; never a Set-Cookie", async () => {
    const cookie = "A".repeat(43);
    const login = await send(down.base, "/login", { method: "POST", cookie, body: form({ name: "bob" }) });
    expect(login.status).toBe(503);
    expect(login.setCookies).toEqual([]);
    const guarded = await send(down.base, "/private", { cookie });
    expect(guarded.status).toBe(503);
    expect(guarded.setCookies).toEqual([]);
    const page = await send(down.base, "/", { cookie });
    expect(page.status).toBe(500);
    expect(page.setCookies).toEqual([]);
    const action = await increment(down.base, cookie);
    expect(action.status).toBe(500);
    expect(action.setCookies).toEqual([]);
  });
});
