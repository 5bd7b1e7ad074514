/**
 * Two app instances over one database, through real HTTP: what one instance revokes, the
 * other refuses on the very next request (reads never use a cache or a replica).
 */
import { createServer } from "node:http";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withSession } from "../../src/adapters/node.js";
import { createSessions, type Sessions } from "../../src/index.js";
import { pgStore } from "../../src/store/pg.js";
import { DATABASE_URL, hasPostgres, uniqueSchema } from "../support/db.js";
import { Browser, httpSend, listen, type Send } from "./client.js";
import { handleRoute, type AppData } from "./routes.js";

describe.skipIf(!hasPostgres)("several app instances on one database", () => {
  const schema = uniqueSchema("instances");
  const pools = [0, 1].map(() => new pg.Pool({ connectionString: DATABASE_URL, max: 4 }));
  const apps: Array<{ sessions: Sessions<AppData>; send: Send; close(): Promise<void> }> = [];

  beforeAll(async () => {
    for (const pool of pools) {
      const sessions = createSessions<AppData>({ store: pgStore(pool), schema, cookie: { name: "sid" } });
      await sessions.migrate();
      const server = await listen(
        createServer(
          withSession(sessions, async (req, res, session) => {
            const answer = await handleRoute(sessions, req.method ?? "GET", req.url ?? "/", session);
            res.writeHead(answer.status, { "content-type": "application/json" }).end(JSON.stringify(answer.body));
          }),
        ),
      );
      apps.push({ sessions, send: httpSend(server.base), close: server.close });
    }
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await pools[0]?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    for (const pool of pools) await pool.end();
  });

  /** A browser whose requests go to instance `i`; both share the cookie jar of `jar`. */
  const via = (jar: Browser, i: number) => Object.assign(new Browser(apps[i]!.send, "sid"), { cookie: jar.cookie });

  it("a session revoked on one instance is refused on the next request to the other", async () => {
    const a = new Browser(apps[0]!.send, "sid");
    await a.request("POST", "/login?user=ines");
    await a.request("POST", "/inc");
    const onB = via(a, 1);
    const seen = await onB.request("GET", "/peek");
    expect(seen.body).toMatchObject({ user: "ines", count: 1, isNew: false });
    expect(await apps[0]!.sessions.revokeSession(seen.body.id)).toBe(true);
    expect((await onB.request("GET", "/peek")).body).toMatchObject({ user: null, isNew: true, count: 0 });
    // A write through the other instance does not bring it back either.
    await onB.request("POST", "/inc");
    expect((await via(a, 0).request("GET", "/peek")).body).toMatchObject({ user: null, isNew: true });
  });

  it("revoking all of a user's sessions on one instance signs them out everywhere", async () => {
    const phone = new Browser(apps[0]!.send, "sid");
    const laptop = new Browser(apps[1]!.send, "sid");
    await phone.request("POST", "/login?user=jon");
    await laptop.request("POST", "/login?user=jon");
    expect(await apps[1]!.sessions.revokeUserSessions("jon")).toBe(2);
    expect((await via(phone, 1).request("GET", "/peek")).body.user).toBeNull();
    expect((await via(laptop, 0).request("GET", "/peek")).body.user).toBeNull();
  });
});
