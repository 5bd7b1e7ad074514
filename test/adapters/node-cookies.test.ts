/**
 * Cookies carry exactly the configured attributes on every path through pgsession/node:
 * first write, login, rotation, remember-me login and logout, for a fully configured cookie
 * and for the defaults. (The adapter contract checks the login cookie of one configuration;
 * this covers the other paths.)
 */
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import type { CookieOptions } from "../../src/session/cookie.js";
import { createSessions } from "../../src/index.js";
import { pgStore } from "../../src/store/pg.js";
import { DATABASE_URL, hasPostgres, uniqueSchema } from "../support/db.js";
import { Client, serveApp, type Data } from "../faults/app.js";
import { parseSetCookie } from "./client.js";

type Attributes = Record<string, string>;

/** The attributes of a Set-Cookie line, without name, value, Max-Age and Expires (checked apart). */
function split(line: string): { name: string; value: string; maxAge: string | undefined; expires: string | undefined; rest: Attributes } {
  const { name = "", value = "", "max-age": maxAge, expires, ...rest } = parseSetCookie(line);
  return { name, value, maxAge, expires, rest };
}

describe.skipIf(!hasPostgres)("pgsession/node cookie attributes on every path", () => {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
  const schemas: string[] = [];
  afterAll(async () => {
    for (const schema of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });

  /** Walks one client through every path that sets a cookie; resolves to the Set-Cookie line of each. */
  async function walk(cookie: CookieOptions & { name: string }, headers: Record<string, string>) {
    const schema = uniqueSchema("cookies");
    schemas.push(schema);
    const sessions = createSessions<Data>({ store: pgStore(pool), schema, cookie, trustProxy: true });
    await sessions.migrate();
    const server = await serveApp(sessions);
    const violations: string[] = [];
    try {
      const send = async (client: Client, method: string, path: string) => {
        const res = await fetch(server.base + path, {
          method,
          headers: { ...headers, ...(client.cookie && { cookie: `${cookie.name}=${client.cookie}` }) },
        });
        expect(res.status).toBe(200);
        const lines = res.headers.getSetCookie();
        expect(lines, `${method} ${path}`).toHaveLength(1);
        const line = lines[0] as string;
        const parsed = split(line);
        client.cookie = parsed.maxAge === "0" ? null : parsed.value;
        return line;
      };
      const client = new Client(server.base, "walker", violations, { timeoutMs: 5_000 });
      const firstWrite = await send(client, "POST", "/write?key=w0");
      const login = await send(client, "POST", "/login?user=walker");
      const rotation = await send(client, "POST", "/rotate");
      const logout = await send(client, "POST", "/logout");
      const remembered = await send(
        new Client(server.base, "keeper", violations, { timeoutMs: 5_000 }),
        "POST",
        "/login?user=keeper&remember=1",
      );
      return { firstWrite, login, rotation, logout, remembered, now: Date.now() };
    } finally {
      await server.close();
    }
  }

  it("a fully configured cookie (Domain, Path, Secure, SameSite, Partitioned, Priority, maxAge)", async () => {
    const cookie = {
      name: "__Secure-sid",
      path: "/app",
      domain: "example.test",
      sameSite: "strict",
      partitioned: true,
      priority: "high",
      maxAge: "2h",
    } as const;
    const seen = await walk(cookie, { "x-forwarded-proto": "https" });
    const exact = { path: "/app", domain: "example.test", httponly: "", secure: "", samesite: "Strict", partitioned: "", priority: "High" };
    const tokens = new Set<string>();
    for (const [path, line] of Object.entries(seen)) {
      if (typeof line !== "string") continue;
      const { name, value, maxAge, expires, rest } = split(line);
      expect(name, path).toBe("__Secure-sid");
      expect(rest, path).toEqual(exact);
      if (path === "logout") {
        expect(value).toBe("");
        expect(maxAge).toBe("0");
        expect(new Date(expires as string).getTime()).toBe(0);
      } else if (path === "remembered") {
        // The configured maxAge, with an Expires that agrees with it.
        expect(maxAge).toBe("7200");
        expect(Math.abs(new Date(expires as string).getTime() - (seen.now + 7_200_000))).toBeLessThan(5_000);
      } else {
        // Browser-session cookies: neither Max-Age nor Expires.
        expect(maxAge, path).toBeUndefined();
        expect(expires, path).toBeUndefined();
      }
      if (value) tokens.add(value);
    }
    // First write, login, rotation and the remembered login each carried a token of their own.
    expect(tokens.size).toBe(4);
  });

  it("the defaults: session, Path=/, HttpOnly, SameSite=Lax, no Secure over plain HTTP", async () => {
    const seen = await walk({ name: "session" }, {});
    for (const [path, line] of Object.entries(seen)) {
      if (typeof line !== "string") continue;
      const { name, maxAge, rest } = split(line);
      expect(name, path).toBe("session");
      expect(rest, path).toEqual({ path: "/", httponly: "", samesite: "Lax" });
      if (path === "remembered") expect(Number(maxAge)).toBeGreaterThan(89 * 86_400);
      else if (path === "logout") expect(maxAge).toBe("0");
      else expect(maxAge, path).toBeUndefined();
    }
  });
});
