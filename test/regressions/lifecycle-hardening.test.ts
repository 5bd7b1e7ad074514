/**
 * Issue 36, lifecycle points that live in the session manager: a login the database rolls
 * back changes nothing (point 1), a login's absolute timeout shorter than its idle
 * timeout ends the session on time (point 4), a remember-me cookie never outlives its
 * session (point 16), and a new visitor who sets and deletes a key stores nothing (point 12).
 */
import { expect, it } from "vitest";
import type { StoreDriver } from "../../src/driver.js";
import { createSessions, SessionStoreError } from "../../src/index.js";
import { fakeClock } from "../support/db.js";
import { describeEachTarget, tokenOf } from "../support/suite.js";

/** The same database, but every transaction is rolled back at its end, as when the connection drops at COMMIT. */
function rollingBack(driver: StoreDriver): StoreDriver {
  return {
    ...driver,
    transaction: (fn) =>
      driver.transaction(async (tx) => {
        await fn(tx);
        throw Object.assign(new Error("terminating connection due to administrator command"), { code: "57P01" });
      }),
  };
}

function maxAgeOf(setCookie: string | null): number | null {
  const match = /Max-Age=(\d+)/i.exec(setCookie ?? "");
  return match ? Number(match[1]) : null;
}

describeEachTarget("lifecycle hardening", (ctx) => {
  it("a login rolled back by the database leaves a stored session and its cookie exactly as they were", async () => {
    const good = ctx().sessions();
    const first = await good.resolve(undefined);
    first.set("x", 1);
    const cookie = `session=${tokenOf(await good.commit(first))}`;

    const failing = createSessions({ store: rollingBack(ctx().driver), schema: ctx().schema, maxSessionsPerUser: 2 });
    const session = await failing.resolve(cookie);
    const id = session.id;
    session.set("y", 2);
    await expect(session.login("alice")).rejects.toBeInstanceOf(SessionStoreError);
    expect(failing.unsentCookie(session)).toBeNull();
    expect(session.userId).toBeNull();
    expect(session.isNew).toBe(false);
    expect(session.id).toBe(id);
    expect(session.toJSON()).toEqual({ x: 1, y: 2 });
    expect(failing.needsCommit(session)).toBe(true); // its data change is still pending

    const again = await good.resolve(cookie);
    expect(again.id).toBe(id);
    expect(again.userId).toBeNull();
    expect(again.toJSON()).toEqual({ x: 1 });
  });

  it("a new visitor's login rolled back by the database sends no cookie and stores nothing", async () => {
    const failing = createSessions({ store: rollingBack(ctx().driver), schema: ctx().schema, maxSessionsPerUser: 2 });
    const session = await failing.resolve(undefined);
    session.set("cart", ["book"]);
    await expect(session.login("bob")).rejects.toBeInstanceOf(SessionStoreError);
    expect(failing.unsentCookie(session)).toBeNull();
    expect(session.isNew).toBe(true);
    expect(session.get("cart")).toEqual(["book"]);
    expect(await ctx().sessions().listUserSessions("bob", { audience: null })).toEqual([]);
  });

  it("login({ absoluteTimeout }) shorter than the idle timeout ends the session at that time", async () => {
    const clock = fakeClock();
    const sessions = ctx().sessions({ now: clock.now, idleTimeout: "24h" });
    const session = await sessions.resolve(undefined);
    await session.login("carol", { absoluteTimeout: "1h" });
    const cookie = `session=${tokenOf(await sessions.commit(session))}`;
    expect(session.expiresAt.getTime() - clock.now().getTime()).toBe(3_600_000);
    expect(session.absoluteExpiresAt.getTime() - clock.now().getTime()).toBe(3_600_000);

    clock.advance(59 * 60_000);
    expect((await sessions.resolve(cookie)).userId).toBe("carol");
    clock.advance(60_001);
    const after = await sessions.resolve(cookie);
    expect(after.isNew).toBe(true);
    expect(after.userId).toBeNull();
  });

  it("a remember-me cookie's Max-Age never exceeds what is left of the session's absolute lifetime", async () => {
    const clock = fakeClock();
    const sessions = ctx().sessions({
      now: clock.now,
      cookie: { maxAge: "400d" },
      remember: { idleTimeout: "30d", absoluteTimeout: "90d" },
    });
    const session = await sessions.resolve(undefined);
    await session.login("dave", { remember: true });
    expect(maxAgeOf(await sessions.commit(session))).toBe(90 * 86_400);
  });

  it("a new visitor whose request sets and then deletes a key stores nothing and gets no cookie", async () => {
    const sessions = ctx().sessions();
    const session = await sessions.resolve(undefined);
    session.set("tmp", 1);
    session.delete("tmp");
    expect(sessions.needsCommit(session)).toBe(false);
    expect(await sessions.commit(session)).toBeNull();
    expect(session.isNew).toBe(true);
  });
});

describeEachTarget("logout without a session", (ctx) => {
  it("sends no clearing cookie to a visitor who had no session (issue 36, point 17)", async () => {
    const sessions = ctx().sessions();
    const visitor = await sessions.resolve(undefined);
    await visitor.logout();
    expect(sessions.needsCommit(visitor)).toBe(false);
    expect(await sessions.commit(visitor)).toBeNull();

    const stored = await sessions.resolve(undefined);
    stored.set("n", 1);
    await sessions.commit(stored);
    await stored.logout();
    expect(await sessions.commit(stored)).toMatch(/Max-Age=0/);
  });
});

describeEachTarget("logout({ keepData: true })", (ctx) => {
  it("signs the user out, keeps the data under a new token, and refuses the old token (issue 36, point 24)", async () => {
    const sessions = ctx().sessions();
    const session = await sessions.resolve(undefined);
    session.set("cart", ["book"]);
    await session.login("iris", { remember: true });
    const signedIn = `session=${tokenOf(await sessions.commit(session))}`;
    const id = session.id;

    const again = await sessions.resolve(signedIn);
    await again.logout({ keepData: true });
    const setCookie = await sessions.commit(again);
    expect(setCookie).not.toMatch(/Max-Age=0/);
    expect(again.userId).toBeNull();
    expect(again.remember).toBe(false);
    expect(again.authenticatedAt).toBeNull();
    expect(again.get("cart")).toEqual(["book"]);

    const kept = await sessions.resolve(`session=${tokenOf(setCookie)}`);
    expect(kept.id).toBe(id);
    expect(kept.userId).toBeNull();
    expect(kept.get("cart")).toEqual(["book"]);
    const old = await sessions.resolve(signedIn);
    expect(old.id).not.toBe(id);
    expect(old.isNew).toBe(true);
    expect(await sessions.listUserSessions("iris", { audience: null })).toEqual([]);
  });
});

describeEachTarget("updatedAt", (ctx) => {
  it("says when the data or the user last changed, apart from last seen, in the session and in listings (issue 36, point 25)", async () => {
    const clock = fakeClock();
    const sessions = ctx().sessions({ now: clock.now, idleTimeout: "1h" });
    const session = await sessions.resolve(undefined);
    session.set("n", 1);
    await session.login("jack");
    const cookie = `session=${tokenOf(await sessions.commit(session))}`;
    const created = clock.now().getTime();

    clock.advance(10 * 60_000); // a touch is due: last seen moves, updatedAt does not
    const read = await sessions.resolve(cookie);
    expect(read.lastSeenAt.getTime()).toBe(clock.now().getTime());
    expect(read.updatedAt.getTime()).toBe(created);

    clock.advance(60_000);
    read.set("n", 2);
    await sessions.commit(read);
    const changed = clock.now().getTime();
    expect((await sessions.resolve(cookie)).updatedAt.getTime()).toBe(changed);
    const [listed] = await sessions.listUserSessions("jack", { audience: null });
    expect(listed?.updatedAt.getTime()).toBe(changed);
    expect(listed?.lastSeenAt.getTime()).toBe(changed - 60_000);
  });
});
