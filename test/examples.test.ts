/**
 * Each example under examples/ starts (as its own process, on a free loopback port, on the
 * PostgreSQL server in a schema of its own) and answers: the page, the counter, login and
 * logout.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { DATABASE_URL, hasPostgres, uniqueSchema } from "./support/db.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const EXAMPLES = ["node", "express", "fastify", "hono", "fetch"];

/** Starts an example; resolves to its child process and origin once it says where it listens. */
async function start(name: string, schema: string): Promise<{ child: ChildProcess; base: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", `examples/${name}.ts`], {
    cwd: ROOT,
    env: { ...process.env, PORT: "0", DATABASE_URL, PGSESSION_SCHEMA: schema },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start in 30 s:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1] as string);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}:\n${output}`));
    });
  });
  return { child, base };
}

describe.skipIf(!hasPostgres)("examples", () => {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  const schemas: string[] = [];
  afterAll(async () => {
    for (const schema of schemas) await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pool.end();
  });

  for (const name of EXAMPLES) {
    it(`${name} starts and answers: counter, login, logout`, async () => {
      const schema = uniqueSchema(`ex_${name}`);
      schemas.push(schema);
      const { child, base } = await start(name, schema);
      try {
        const home = await fetch(base + "/");
        expect(home.status).toBe(200);
        expect(await home.text()).toContain("Visits: <b>0</b>");
        const counted = await fetch(base + "/count", { method: "POST", redirect: "manual" });
        expect(counted.status).toBe(303);
        const cookie = (counted.headers.getSetCookie()[0] ?? "").split(";")[0] as string;
        expect(cookie).toMatch(/^session=/);
        const login = await fetch(base + "/login", { method: "POST", redirect: "manual", headers: { cookie } });
        const loggedIn = (login.headers.getSetCookie()[0] ?? "").split(";")[0] as string;
        expect(loggedIn).not.toBe(cookie);
        const page = await (await fetch(base + "/", { headers: { cookie: loggedIn } })).text();
        expect(page).toContain("Signed in as <b>alice</b>");
        expect(page).toContain("Visits: <b>1</b>");
        const logout = await fetch(base + "/logout", { method: "POST", redirect: "manual", headers: { cookie: loggedIn } });
        expect(logout.headers.getSetCookie()[0]).toMatch(/^session=; Max-Age=0/);
        expect(await (await fetch(base + "/", { headers: { cookie: loggedIn } })).text()).toContain("Not signed in");
      } finally {
        child.kill();
        if (child.exitCode === null) await once(child, "exit");
      }
    });
  }
});
