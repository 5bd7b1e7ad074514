/**
 * Each example under examples/ starts (as its own process, on a free loopback port, on the
 * PostgreSQL server in a schema of its own) and answers: the page, the counter, login and
 * logout; it refuses cross-site form posts, escapes what it puts into HTML, and answers a
 * request with a bad Host header with 400 instead of crashing.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { connect } from "node:net";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DATABASE_URL, hasPostgres, uniqueSchema } from "../support/db.js";
import { startExample } from "../support/example-process.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const EXAMPLES = ["node", "express", "fastify", "fastify-session", "hono", "fetch", "koa", "h3", "react-router"];

/** Starts an example; resolves to its child process and origin once it says where it listens. */
async function start(name: string, schema: string): Promise<{ child: ChildProcess; base: string; output: () => string }> {
  return startExample(`examples/${name}.ts`, { PORT: "0", DATABASE_URL, PGSESSION_SCHEMA: schema });
}

/** Sends `head` (request line and headers) over a raw TCP connection; resolves to the response's status line ("" if none). */
function rawRequest(base: string, head: string): Promise<string> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(`${head}Connection: close\r\n\r\n`));
    let response = "";
    socket.on("data", (chunk: Buffer) => (response += chunk.toString("latin1")));
    socket.on("error", reject);
    socket.on("close", () => resolve(response.split("\r\n")[0] ?? ""));
  });
}

function cookieOf(response: Response): string {
  return (response.headers.getSetCookie()[0] ?? "").split(";")[0] as string;
}

describe.skipIf(!hasPostgres)("examples", () => {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  const schemas: string[] = [];
  afterAll(async () => {
    for (const schema of schemas) await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pool.end();
  });

  for (const name of EXAMPLES) {
    describe(name, () => {
      let child: ChildProcess;
      let base: string;
      let output: () => string;

      beforeAll(async () => {
        const schema = uniqueSchema(`ex_${name.replaceAll("-", "_")}`);
        schemas.push(schema);
        ({ child, base, output } = await start(name, schema));
      }, 40_000);
      afterAll(async () => {
        if (!child) return;
        child.kill();
        if (child.exitCode === null && child.signalCode === null) await once(child, "exit");
      });

      /** A form post as a browser sends it from the example's own page (same Origin). */
      function post(
        path: string,
        options: { cookie?: string; form?: Record<string, string>; headers?: Record<string, string> } = {},
      ): Promise<Response> {
        return fetch(base + path, {
          method: "POST",
          redirect: "manual",
          ...(options.form && { body: new URLSearchParams(options.form) }),
          headers: { origin: base, ...(options.cookie && { cookie: options.cookie }), ...options.headers },
        });
      }
      const pageFor = async (cookie?: string) => (await fetch(base + "/", cookie ? { headers: { cookie } } : {})).text();

      it("answers: counter, login, logout", async () => {
        const home = await fetch(base + "/");
        expect(home.status).toBe(200);
        expect(await home.text()).toContain("Visits: <b>0</b>");
        const counted = await post("/count");
        expect(counted.status).toBe(303);
        const cookie = cookieOf(counted);
        expect(cookie).toMatch(/^session=/);
        const login = await post("/login", { cookie, form: { name: "alice" } });
        expect(login.status).toBe(303);
        const loggedIn = cookieOf(login);
        expect(loggedIn).not.toBe(cookie);
        const page = await pageFor(loggedIn);
        expect(page).toContain("Signed in as <b>alice</b>");
        expect(page).toContain("Visits: <b>1</b>");
        const logout = await post("/logout", { cookie: loggedIn });
        expect(logout.headers.getSetCookie()[0]).toMatch(/^session=; Max-Age=0/);
        expect(await pageFor(loggedIn)).toContain("Not signed in");
      });

      it("refuses a cross-site POST with 403 and changes nothing", async () => {
        const login = await post("/login", { form: { name: "carol" } });
        const cookie = cookieOf(login);
        expect(await pageFor(cookie)).toContain("Signed in as <b>carol</b>. Visits: <b>0</b>");
        const forged: Array<Record<string, string>> = [
          { "sec-fetch-site": "cross-site" }, // the browser's word wins over a matching Origin
          { "sec-fetch-site": "same-site" },
          { origin: "http://evil.example" },
          { origin: "" },
        ];
        for (const headers of forged) {
          for (const path of ["/count", "/logout", "/login"]) {
            const response = await post(path, { cookie, form: { name: "mallory" }, headers });
            expect(response.status, `${path} ${JSON.stringify(headers)}`).toBe(403);
            expect(response.headers.getSetCookie()).toEqual([]);
          }
        }
        expect(await pageFor(cookie)).toContain("Signed in as <b>carol</b>. Visits: <b>0</b>");
        expect((await post("/count", { cookie, headers: { "sec-fetch-site": "same-origin" } })).status).toBe(303);
        expect(await pageFor(cookie)).toContain("Visits: <b>1</b>");
      });

      // Flash messages are React Router's session idiom; the other examples have none.
      if (name === "react-router") {
        it("shows a flash message once", async () => {
          const login = await post("/login", { form: { name: "dan" } });
          const cookie = cookieOf(login);
          expect(await pageFor(cookie)).toContain('<p role="status">Welcome, dan.</p>');
          expect(await pageFor(cookie)).not.toContain("Welcome");
        });
      }

      it("escapes the user's name in the page", async () => {
        const login = await post("/login", { form: { name: `<script>x</script>"'&` } });
        expect(login.status).toBe(303);
        const page = await pageFor(cookieOf(login));
        expect(page).toContain("Signed in as <b>&lt;script&gt;x&lt;/script&gt;&quot;&#39;&amp;</b>");
        expect(page).not.toContain("<script>");
      });

      it("answers a request with a bad Host header with 400 and keeps serving", async () => {
        expect(await rawRequest(base, "GET / HTTP/1.1\r\nHost: [bad\r\n")).toMatch(/^HTTP\/1\.1 400 /);
        expect(await rawRequest(base, "POST /count HTTP/1.1\r\nHost: bad host\r\nContent-Length: 0\r\n")).toMatch(/^HTTP\/1\.1 400 /);
        expect(await rawRequest(base, "GET / HTTP/1.0\r\n")).toMatch(/^HTTP\/1\.1 400 /);
        const home = await fetch(base + "/");
        expect(home.status).toBe(200);
        expect(await home.text()).toContain("Not signed in");
        expect(child.exitCode, output()).toBeNull();
      });
    });
  }
});

/** Runs a program of examples/ to its end (bounded); its exit code and output. */
function runToEnd(file: string, env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ["--conditions=pgsession-source", "--import", "tsx", file], {
    cwd: ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  return once(child, "exit").then(([code]) => {
    clearTimeout(timer);
    return { code: code as number | null, output };
  });
}

// docs/migrating.md: each guide's program runs the same scenario against the app as it was
// (express-session or @fastify/session, on connect-pg-simple) and as pgsession serves it.
describe.skipIf(!hasPostgres)("migration guides", () => {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
  const schemas: string[] = [];
  afterAll(async () => {
    for (const schema of schemas) await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pool.end();
  });

  for (const [name, file] of [
    ["express-session + connect-pg-simple", "examples/migrating/express-session.ts"],
    ["@fastify/session", "examples/migrating/fastify-session.ts"],
  ] as const) {
    it(`from ${name}: the same requests get the same answers`, { timeout: 90_000 }, async () => {
      const schema = uniqueSchema("migrating");
      schemas.push(schema);
      const { code, output } = await runToEnd(file, { ...process.env, DATABASE_URL, PGSESSION_SCHEMA: schema });
      expect(code, output).toBe(0);
      expect(output).toMatch(/same behaviour: 8 requests answered alike/);
    });
  }
});
