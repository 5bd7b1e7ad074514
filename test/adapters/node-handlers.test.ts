/**
 * The failure answers an application configures: `onStoreError` and `onSessionGone` of the
 * node:http adapter (the Express adapter shares them) replace the default 503 and 409.
 */
import { createServer } from "node:http";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { withSession, type NodeSessionOptions } from "../../src/adapters/node.js";
import { createSessions, type Sessions } from "../../src/index.js";
import { SessionGoneError, SessionStoreError } from "../../src/errors.js";
import { pgStore } from "../../src/store/pg.js";
import { DATABASE_URL, hasPostgres, uniqueSchema } from "../support/db.js";
import { Browser, closedPort, httpSend, listen } from "./client.js";
import { handleRoute, type AppData } from "./routes.js";

async function serve(sessions: Sessions<AppData>, options: NodeSessionOptions) {
  const server = await listen(
    createServer(
      withSession(
        sessions,
        async (req, res, session) => {
          const answer = await handleRoute(sessions, req.method ?? "GET", req.url ?? "/", session);
          res.writeHead(answer.status, { "content-type": "application/json" }).end(JSON.stringify(answer.body));
        },
        options,
      ),
    ),
  );
  return { browser: () => new Browser(httpSend(server.base), "session"), close: server.close };
}

describe.skipIf(!hasPostgres)("pgsession/node failure handlers", () => {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
  const schema = uniqueSchema("handlers");
  afterAll(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pool.end();
  });

  it("onStoreError answers a database failure instead of the default 503", async () => {
    const port = await closedPort();
    const down = createSessions<AppData>({
      schema,
      store: pgStore({ connectionString: `postgres://postgres@127.0.0.1:${port}/test`, connectionTimeoutMillis: 2000, onError: () => {} }),
    });
    const seen: unknown[] = [];
    const app = await serve(down, {
      onStoreError: (err, _req, res) => {
        seen.push(err);
        res.writeHead(503, { "content-type": "text/plain", "retry-after": "5" }).end("maintenance");
      },
    });
    try {
      const answer = await app.browser().request("POST", "/inc");
      expect(answer.status).toBe(503);
      expect(answer.body).toBe("maintenance");
      expect(answer.setCookies).toEqual([]);
      expect(seen).toHaveLength(1);
      expect(seen[0]).toBeInstanceOf(SessionStoreError);
    } finally {
      await app.close();
      await down.close();
    }
  });

  it("onSessionGone answers a session revoked while the request ran instead of the default 409", async () => {
    const sessions = createSessions<AppData>({ schema, store: pgStore(pool) });
    await sessions.migrate();
    const seen: unknown[] = [];
    const app = await serve(sessions, {
      onSessionGone: (err, _req, res) => {
        seen.push(err);
        res.writeHead(410, { "content-type": "text/plain" }).end("signed out elsewhere");
      },
    });
    try {
      const b = app.browser();
      await b.request("POST", "/inc");
      const answer = await b.request("POST", "/revoke-self");
      expect(answer.status).toBe(410);
      expect(answer.body).toBe("signed out elsewhere");
      expect(seen).toHaveLength(1);
      expect(seen[0]).toBeInstanceOf(SessionGoneError);
    } finally {
      await app.close();
    }
  });
});
