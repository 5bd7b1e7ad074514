/**
 * Issue 36, point 19: a session belongs to its audience on every read. A token issued under
 * one audience names nothing under another, nor under an instance without an audience
 * (and a session without one, nothing under an audience): through `resolve`, the
 * low-level store, express-session's store and `session_handler()` in SQL. A foreign read
 * does not touch the session either: the audience is part of the read's WHERE clause.
 */
import { expect, it } from "vitest";
import { PgSessionStore, type StoredExpressSession } from "../../src/adapters/express-session.js";
import { SessionGoneError } from "../../src/errors.js";
import { fakeClock } from "../support/db.js";
import { describeEachTarget, tokenOf } from "../support/suite.js";

function call<T>(fn: (cb: (err?: unknown, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value as T))));
}

describeEachTarget("audiences on every read", (ctx) => {
  /** The row's last_seen_at in epoch ms and its data, read around pgsession. */
  async function rowOf(id: string): Promise<{ seen: number; data: unknown; audience: string | null } | undefined> {
    const { schema, target } = ctx();
    const [row] = await target.sql(
      `SELECT (extract(epoch FROM last_seen_at) * 1000)::float8 AS seen, data, audience FROM "${schema}".sessions WHERE id = $1::text`,
      [id],
    );
    return row as { seen: number; data: unknown; audience: string | null } | undefined;
  }

  it("a session of one audience resolves as unknown under another, and is not touched by that read", async () => {
    const clock = fakeClock(new Date("2032-03-01T00:00:00Z"));
    const shop = ctx().sessions({ audience: "shop", now: clock.now });
    const blog = ctx().sessions({ audience: "blog", now: clock.now });
    const none = ctx().sessions({ now: clock.now });

    const session = await shop.resolve(undefined);
    session.set("cart", ["book"]);
    const cookie = `session=${tokenOf(await shop.commit(session))}`;
    const created = (await rowOf(session.id))!.seen;

    // Past touchAfter (a tenth of 24 h): a read that found the row would touch it.
    clock.advance(3 * 3_600_000);
    for (const other of [blog, none]) {
      const foreign = await other.resolve(cookie);
      expect(foreign.isNew).toBe(true);
      expect(foreign.id).not.toBe(session.id);
      expect(foreign.get("cart")).toBeUndefined();
    }
    expect((await rowOf(session.id))!.seen).toBe(created);

    const own = await shop.resolve(cookie);
    expect(own.id).toBe(session.id);
    expect(own.get("cart")).toEqual(["book"]);
    expect((await rowOf(session.id))!.seen).toBe(clock.now().getTime());
  });

  it("without an audience, an instance reads only the sessions without one (strict equality, both ways)", async () => {
    const none = ctx().sessions();
    const shop = ctx().sessions({ audience: "shop" });
    const plain = await none.resolve(undefined);
    plain.set("n", 1);
    const cookie = `session=${tokenOf(await none.commit(plain))}`;
    expect((await shop.resolve(cookie)).isNew).toBe(true);
    expect((await none.resolve(cookie)).id).toBe(plain.id);
  });

  it("a rotated-away token inside its grace window is refused under another audience too", async () => {
    const shop = ctx().sessions({ audience: "shop" });
    const blog = ctx().sessions({ audience: "blog" });
    const session = await shop.resolve(undefined);
    session.set("n", 1);
    const first = tokenOf(await shop.commit(session));
    await session.rotate();
    await shop.commit(session);
    expect((await shop.resolveToken(first)).id).toBe(session.id); // the grace window
    expect((await blog.resolveToken(first)).isNew).toBe(true);
  });

  it("the low-level store neither reads nor writes a session of another audience", async () => {
    const shop = ctx().sessions({ audience: "shop" });
    const blog = ctx().sessions({ audience: "blog" });
    const token = await shop.store.create({ data: { n: 1 } });

    expect(await blog.store.get(token)).toBeNull();
    expect(await blog.store.touch(token)).toBeNull();
    await expect(blog.store.set(token, { n: 2 })).rejects.toBeInstanceOf(SessionGoneError);
    // put() would insert the token as a new session: the row it names refuses it.
    await expect(blog.store.put(token, { n: 3 }, { ttl: "1h" })).rejects.toBeInstanceOf(SessionGoneError);
    expect(await blog.store.end(token)).toBe(false);
    expect(await blog.store.delete(token)).toBe(false);

    expect(await shop.store.get(token)).toMatchObject({ data: { n: 1 } });
    expect(await shop.store.delete(token)).toBe(true);
  });

  it("express-session's store on an instance of another audience sees no session for the sid", async () => {
    const shopStore = new PgSessionStore({ sessions: ctx().sessions({ audience: "shop" }), pruneSessionInterval: false });
    const blogStore = new PgSessionStore({ sessions: ctx().sessions({ audience: "blog" }), pruneSessionInterval: false });
    const sid = `sid-${Math.random().toString(36).slice(2)}`;
    const stored: StoredExpressSession = { cookie: { maxAge: 3_600_000 }, views: 1 };
    await call<void>((cb) => shopStore.set(sid, stored, cb));

    expect(await call<StoredExpressSession | null>((cb) => blogStore.get(sid, cb))).toBeNull();
    await expect(call<void>((cb) => blogStore.set(sid, { ...stored, views: 99 }, cb))).rejects.toBeInstanceOf(SessionGoneError);
    await call<void>((cb) => blogStore.destroy(sid, cb));

    expect(await call<StoredExpressSession | null>((cb) => shopStore.get(sid, cb))).toMatchObject({ views: 1 });
    await shopStore.close();
    await blogStore.close();
  });

  it("session_handler(token, ..., audience) treats a token of another audience like an unknown one", async () => {
    const { schema, driver } = ctx();
    const handle = (token: string, audience: string | null) =>
      driver.transaction(async (tx) => {
        const [row] = await tx.query(
          {
            name: "",
            text: `SELECT "${schema}".session_handler($1::text, interval '1 day', interval '7 days', $2::text) AS token,
                          "${schema}".session_id() AS id, "${schema}".audience() AS audience`,
          },
          [token, audience],
        );
        return row as { token: string; id: string; audience: string | null };
      });

    const shop = ctx().sessions({ audience: "shop" });
    const session = await shop.resolve(undefined);
    session.set("n", 1);
    const token = tokenOf(await shop.commit(session));

    expect(await handle(token, "shop")).toEqual({ token, id: session.id, audience: "shop" });
    for (const audience of ["blog", null]) {
      const foreign = await handle(token, audience);
      expect(foreign.token).not.toBe(token);
      expect(foreign.id).not.toBe(session.id);
      expect(foreign.audience).toBe(audience);
      expect((await rowOf(foreign.id))?.audience).toBe(audience);
    }
    expect((await shop.resolveToken(token)).get("n")).toBe(1);

    // A session without an audience answers only a call without one.
    const plain = await handle(token, null).then((made) => made.token);
    expect((await handle(plain, null)).token).toBe(plain);
    expect((await handle(plain, "shop")).token).not.toBe(plain);
  });
});
