/**
 * Tokens never appear in logs: everything pgsession/node logs on its error paths (a handler
 * throwing before or after its response started, a late write that fails), and everything
 * an app logs about a session (the object itself, its JSON, a deep inspection), is checked
 * for every token the clients received and for their SHA-256 hashes.
 */
import { createServer } from "node:http";
import { inspect } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withSession } from "../../src/adapters/node.js";
import { createSessions, type Sessions } from "../../src/index.js";
import { hashToken } from "../../src/session/token.js";
import { pgStore } from "../../src/store/pg.js";
import { captureConsole } from "../faults/harness.js";
import { DATABASE_URL, hasPostgres, uniqueSchema } from "../support/db.js";
import { listen, parseSetCookie } from "./client.js";

describe.skipIf(!hasPostgres)("pgsession/node: tokens never appear in logs", () => {
  const schema = uniqueSchema("logs");
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
  let sessions: Sessions;
  beforeAll(async () => {
    sessions = createSessions({ store: pgStore(pool), schema, cookie: { name: "sid" } });
    await sessions.migrate();
  });
  afterAll(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });

  it("on the library's error paths and when the app logs the session", async () => {
    const server = await listen(
      createServer(
        withSession(sessions, async (req, res, session) => {
          switch (req.url) {
            case "/login":
              await session.login("mallory", { remember: true });
              break;
            case "/log-session":
              // What an app might log: none of it may reveal the token.
              console.log(session);
              console.log(JSON.stringify(session));
              console.log(inspect(session, { showHidden: true, getters: true, depth: 10 }));
              console.log("session %o", session);
              break;
            case "/throw":
              session.set("x", 1);
              throw new Error("handler failed on purpose");
            case "/throw-after-start":
              res.writeHead(200);
              res.write("partial");
              throw new Error("handler failed after starting");
            case "/late-write":
              res.end("done");
              // Written after the response went out, to a session revoked meanwhile: logged.
              await sessions.revokeSession(session.id);
              session.set("late", true);
              return;
          }
          if (!res.headersSent) res.end("ok");
        }),
      ),
    );
    const logs = captureConsole();
    const tokens = new Set<string>();
    let cookie = "";
    const send = async (path: string) => {
      const res = await fetch(server.base + path, { method: "POST", headers: cookie ? { cookie: `sid=${cookie}` } : {} });
      for (const line of res.headers.getSetCookie()) {
        const value = parseSetCookie(line).value ?? "";
        if (value) tokens.add(value);
        cookie = value;
      }
      await res.text().catch(() => "");
      return res.status;
    };
    try {
      expect(await send("/login")).toBe(200);
      expect(await send("/log-session")).toBe(200);
      expect(await send("/throw")).toBe(500);
      expect(await send("/login")).toBe(200);
      // A response abandoned half-way is closed by the adapter: the client sees a failure, never a hang.
      await expect(send("/throw-after-start")).rejects.toThrow();
      expect(await send("/late-write")).toBe(200);
      // The late write's failure is logged once the handler finished.
      for (let i = 0; i < 50 && !logs.lines.some((line) => line.includes("late session write failed")); i++)
        await new Promise((r) => setTimeout(r, 20));
    } finally {
      logs.restore();
      await server.close();
    }
    const text = logs.lines.join("\n");
    // The error paths did log (so the check below looked at something).
    expect(text).toContain("pgsession: request failed");
    expect(text).toContain("handler failed after starting its response");
    expect(text).toContain("late session write failed");
    expect(tokens.size).toBeGreaterThanOrEqual(2);
    for (const token of tokens) {
      expect(text).not.toContain(token);
      expect(text).not.toContain(hashToken(token));
    }
  });
});
