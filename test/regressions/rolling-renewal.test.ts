/**
 * Issue 36, point 23: rolling renewal. With `rotateAfter`, a request that resolves a
 * session whose token is older than that gets a new token on its commit (the adapter
 * sends it), and the old token keeps working for `staleTtl`, so a long-lived session does
 * not keep one token for months. Parallel requests on a due session all succeed: one
 * rotates, the others keep working through the grace window. Off by default.
 */
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { expect, it } from "vitest";
import { withSession } from "../../src/adapters/node.js";
import { SessionConfigError } from "../../src/errors.js";
import { createSessions } from "../../src/index.js";
import type { SessionsOptions } from "../../src/manager/options.js";
import { listen, parseSetCookie } from "../adapters/client.js";
import { fakeClock } from "../support/db.js";
import { describeEachTarget, tokenOf } from "../support/suite.js";

const HOUR = 3_600_000;

describeEachTarget("rolling renewal (rotateAfter)", (ctx) => {
  /** Sessions on an injected clock, rotating tokens older than an hour, and the "rotated" events they emit. */
  function rolling(options: Omit<SessionsOptions, "store" | "schema"> = { rotateAfter: "1h" }) {
    const clock = fakeClock();
    const sessions = ctx().sessions({ now: clock.now, idleTimeout: "24h", staleTtl: "10s", ...options });
    const rotated: string[] = [];
    sessions.on("rotated", ({ id }) => void rotated.push(id));
    return { clock, sessions, rotated };
  }

  it("rotates on the commit of the first request after the token's age passes, not before; the old token works within the grace window", async () => {
    const { clock, sessions, rotated } = rolling();
    const first = await sessions.resolve(undefined);
    first.set("cart", ["book"]);
    const t0 = tokenOf(await sessions.commit(first));

    clock.advance(HOUR - 1000);
    const early = await sessions.resolveToken(t0);
    expect(sessions.needsCommit(early)).toBe(false);
    expect(await sessions.commit(early)).toBeNull();

    clock.advance(2000);
    const due = await sessions.resolveToken(t0);
    expect(sessions.needsCommit(due)).toBe(true);
    const setCookie = await sessions.commit(due);
    const t1 = tokenOf(setCookie);
    expect(t1).not.toBe(t0);
    expect(due.id).toBe(first.id);
    expect(rotated).toEqual([first.id]);

    // The old token, within the grace window: the same session, and no second rotation.
    clock.advance(5000);
    const late = await sessions.resolveToken(t0);
    expect(late.isNew).toBe(false);
    expect(late.id).toBe(first.id);
    expect(late.get("cart")).toEqual(["book"]);
    late.set("seen", true); // its write lands through the grace window
    expect(await sessions.commit(late)).toBeNull();
    expect(rotated).toHaveLength(1);

    // After the grace window the old token names nothing; the new one holds everything.
    clock.advance(6000);
    expect((await sessions.resolveToken(t0)).isNew).toBe(true);
    const next = await sessions.resolveToken(t1);
    expect(next.id).toBe(first.id);
    expect(next.toJSON()).toEqual({ cart: ["book"], seen: true });
    // The new token's age counts from its rotation.
    expect(await sessions.commit(next)).toBeNull();
    clock.advance(HOUR);
    expect(tokenOf(await sessions.commit(await sessions.resolveToken(t1)))).not.toBe(t1);
    expect(rotated).toHaveLength(2);
  });

  it("rotates and saves the request's changes in one go", async () => {
    const { clock, sessions } = rolling();
    const first = await sessions.resolve(undefined);
    first.set("n", 1);
    const t0 = tokenOf(await sessions.commit(first));
    clock.advance(HOUR + 1);
    const due = await sessions.resolveToken(t0);
    due.set("n", 2);
    const t1 = tokenOf(await sessions.commit(due));
    expect(due.isDirty).toBe(false);
    expect((await sessions.resolveToken(t1)).get("n")).toBe(2);
  });

  it("parallel requests on a due session all succeed: one rotates, the others keep their token for the grace window, no logout", async () => {
    const { clock, sessions, rotated } = rolling();
    const first = await sessions.resolve(undefined);
    await first.login("rita");
    const t0 = tokenOf(await sessions.commit(first));
    clock.advance(HOUR + 1);
    const requests = await Promise.all([0, 1, 2].map(() => sessions.resolveToken(t0)));
    requests.forEach((session, i) => session.set(`k${i}`, i));
    const cookies = await Promise.all(requests.map((session) => sessions.commit(session)));
    const sent = cookies.filter((cookie) => cookie !== null);
    expect(sent).toHaveLength(1);
    expect(rotated).toHaveLength(1);
    const t1 = tokenOf(sent[0] as string);
    for (const token of [t0, t1]) {
      const session = await sessions.resolveToken(token);
      expect(session.userId).toBe("rita");
      expect(session.toJSON()).toEqual({ k0: 0, k1: 1, k2: 2 });
    }
  });

  it("is off by default: a token months old (within the timeouts) is never rotated", async () => {
    const { clock, sessions, rotated } = rolling({});
    const first = await sessions.resolve(undefined);
    await first.login("sam", { remember: true });
    const t0 = tokenOf(await sessions.commit(first));
    for (let day = 0; day < 60; day += 10) {
      clock.advance(10 * 24 * HOUR);
      expect(await sessions.commit(await sessions.resolveToken(t0))).toBeNull();
    }
    expect(rotated).toEqual([]);
  });

  it("with sealed (encrypted) data, the new token opens the data", async () => {
    const { clock, sessions } = rolling({ rotateAfter: HOUR, encrypt: { keys: [{ id: "k", key: randomBytes(32) }] } });
    const first = await sessions.resolve(undefined);
    first.set("secret", "s");
    const t0 = tokenOf(await sessions.commit(first));
    clock.advance(HOUR + 1);
    const t1 = tokenOf(await sessions.commit(await sessions.resolveToken(t0)));
    expect((await sessions.resolveToken(t1)).get("secret")).toBe("s");
    expect((await sessions.resolveToken(t0)).get("secret")).toBe("s"); // within the grace window
  });

  it("refuses a rotateAfter that is not a duration, or not longer than staleTtl", () => {
    const store = ctx().driver;
    expect(() => createSessions({ store, rotateAfter: "soon" })).toThrow(SessionConfigError);
    expect(() => createSessions({ store, rotateAfter: 0 })).toThrow(SessionConfigError);
    expect(() => createSessions({ store, rotateAfter: "5s", staleTtl: "10s" })).toThrow(/rotateAfter/);
    expect(createSessions({ store, rotateAfter: "1h" }).options.rotateAfterMs).toBe(HOUR);
    expect(createSessions({ store }).options.rotateAfterMs).toBeNull();
  });

  it("migration 003 gives rows that existed before it the time their token was issued, at the latest", async () => {
    const { schema, target } = ctx();
    const table = `"${schema}".sessions`;
    const sessions = ctx().sessions();
    const [plain, rotated, loggedIn] = await Promise.all([
      sessions.resolve(undefined),
      sessions.resolve(undefined),
      sessions.resolve(undefined),
    ]);
    for (const session of [plain, rotated, loggedIn]) session.set("n", 1);
    await Promise.all([plain, rotated].map((session) => sessions.commit(session)));
    await loggedIn.login("una");
    await rotated.rotate();
    // Back to before 003: no column, no record of it.
    await target.sql(`ALTER TABLE ${table} DROP COLUMN token_issued_at`);
    await target.sql(`DELETE FROM "${schema}".sessions_migrations WHERE version = 3`);
    await target.sql(`UPDATE ${table} SET created_at = now() - interval '3 days' WHERE id = ANY($1)`, [
      [plain.id, rotated.id, loggedIn.id],
    ]);
    await target.sql(`UPDATE ${table} SET authenticated_at = now() - interval '2 days' WHERE id = $1`, [loggedIn.id]);
    await target.sql(`UPDATE ${table} SET prev_expires_at = now() - interval '1 day' WHERE id = $1`, [rotated.id]);
    expect(await sessions.migrate()).toEqual([3]);
    const rows = await target.sql(
      `SELECT id, round(extract(epoch FROM now() - token_issued_at) / 3600)::int AS hours FROM ${table} WHERE id = ANY($1) ORDER BY hours`,
      [[plain.id, rotated.id, loggedIn.id]],
    );
    expect(rows).toEqual([
      { id: rotated.id, hours: 24 },
      { id: loggedIn.id, hours: 48 },
      { id: plain.id, hours: 72 },
    ]);
  });

  it("through node:http: the Set-Cookie appears once the age passes, and the old token works within the grace window", async () => {
    const { clock, sessions } = rolling();
    const server = createServer(
      withSession(sessions, (req, res, session) => {
        if (req.url === "/inc") session.set("n", ((session.get("n") as number | undefined) ?? 0) + 1);
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ id: session.id, isNew: session.isNew, n: session.get("n") ?? null }));
      }),
    );
    const { base, close } = await listen(server);
    const get = async (path: string, token?: string) => {
      const res = await fetch(base + path, token ? { headers: { cookie: `session=${token}` } } : {});
      const cookies = res.headers.getSetCookie().map(parseSetCookie);
      return { body: (await res.json()) as { id: string; isNew: boolean; n: number | null }, token: cookies[0]?.value ?? null };
    };
    try {
      const created = await get("/inc");
      const t0 = created.token as string;
      expect(t0).toBeTruthy();

      clock.advance(HOUR - 1);
      const before = await get("/", t0);
      expect(before.token).toBeNull();
      expect(before.body).toEqual({ id: created.body.id, isNew: false, n: 1 });

      clock.advance(2);
      const due = await get("/", t0);
      expect(due.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(due.token).not.toBe(t0);
      expect(due.body.id).toBe(created.body.id);

      // A request still carrying the old token, within the grace window: served, written, no new cookie.
      clock.advance(9000);
      const stale = await get("/inc", t0);
      expect(stale.token).toBeNull();
      expect(stale.body).toEqual({ id: created.body.id, isNew: false, n: 2 });

      const current = await get("/", due.token as string);
      expect(current.token).toBeNull();
      expect(current.body).toEqual({ id: created.body.id, isNew: false, n: 2 });

      clock.advance(2000); // the grace window is over
      expect((await get("/", t0)).body.isNew).toBe(true);
    } finally {
      await close();
    }
  });
});
