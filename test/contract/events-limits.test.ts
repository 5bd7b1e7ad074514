/**
 * Lifecycle events fire exactly once per occurrence and never carry the token;
 * maxSessionsPerUser holds under 10 parallel logins; requireRecentLogin;
 * revokeUserSessions({ issuedBefore }).
 */
import { describe, expect, it } from "vitest";
import { SessionReauthRequiredError } from "../../src/errors.js";
import type { SessionEventName } from "../../src/session/events.js";
import type { Sessions } from "../../src/index.js";
import { isRecentLogin, requireRecentLogin } from "../../src/session/step-up.js";
import { fakeClock } from "../support/db.js";
import { describeEachTarget, tokenOf } from "../support/suite.js";

const EVENTS: SessionEventName[] = ["created", "rotated", "touched", "saved", "revoked", "expired", "pruned"];

function record(sessions: Sessions) {
  const log: Array<{ name: SessionEventName; event: Record<string, unknown> }> = [];
  for (const name of EVENTS) sessions.on(name, (event) => void log.push({ name, event: event as unknown as Record<string, unknown> }));
  const count = (name: SessionEventName) => log.filter((entry) => entry.name === name).length;
  return { log, count };
}

/** Runs `body` with console.warn captured; resolves to the warnings. */
async function capturingWarnings(body: () => Promise<void>): Promise<string[]> {
  const warn = console.warn;
  const warned: string[] = [];
  console.warn = (message: string) => void warned.push(message);
  try {
    await body();
  } finally {
    console.warn = warn;
  }
  return warned;
}

/** Creates and stores a new session (firing "created"). */
async function commitNewSession(sessions: Sessions): Promise<void> {
  const session = await sessions.resolve(undefined);
  session.set("x", 1);
  expect(await sessions.commit(session)).toMatch(/^session=/);
}

describeEachTarget("events, limits and step-up", (ctx) => {
  describe("lifecycle events", () => {
    it("fire exactly once per occurrence, with the public id and user, never the token", async () => {
      const clock = fakeClock(new Date("2031-03-01T00:00:00Z"));
      const sessions = ctx().sessions({ now: clock.now, idleTimeout: "1h", absoluteTimeout: "1d", audience: "events" });
      const { log, count } = record(sessions);
      const tokens: string[] = [];

      const session = await sessions.resolve(undefined);
      expect(await sessions.commit(session)).toBeNull(); // nothing stored, nothing fired
      expect(log).toEqual([]);
      session.set("a", 1);
      tokens.push(tokenOf(await sessions.commit(session)));
      expect(count("created")).toBe(1);
      expect(log[0]).toEqual({ name: "created", event: { id: session.id, userId: null, audience: "events" } });

      const same = await sessions.resolveToken(tokens[0]);
      same.set("a", 2);
      await sessions.commit(same);
      await sessions.commit(same); // nothing changed: no second "saved"
      expect(count("saved")).toBe(1);
      expect(log.find((e) => e.name === "saved")?.event).toMatchObject({ id: session.id, version: 2 });

      clock.advance(10 * 60_000); // past touchAfter (6 min)
      await Promise.all(Array.from({ length: 5 }, () => sessions.resolveToken(tokens[0]))); // parallel requests: one touch
      await sessions.resolveToken(tokens[0]); // touched already: no second event
      expect(count("touched")).toBe(1);

      await same.login("hana");
      tokens.push(tokenOf(await sessions.commit(same)));
      expect(count("rotated")).toBe(1);
      expect(log.filter((e) => e.name === "rotated")[0]?.event).toEqual({ id: session.id, userId: "hana", audience: "events" });
      await same.rotate();
      tokens.push(tokenOf(await sessions.commit(same)));
      expect(count("rotated")).toBe(2);

      await same.logout();
      expect(count("revoked")).toBe(1);
      expect(log.find((e) => e.name === "revoked")?.event).toMatchObject({ id: session.id, userId: "hana", reason: "logout" });
      await same.logout(); // already gone: nothing more
      expect(count("revoked")).toBe(1);

      const other = await sessions.resolve(undefined);
      await other.login("hana");
      tokens.push(tokenOf(await sessions.commit(other)));
      expect(count("created")).toBe(2);
      expect(await sessions.revokeSession(other.id)).toBe(true);
      expect(await sessions.revokeSession(other.id)).toBe(false);
      expect(count("revoked")).toBe(2);
      // The row's own audience (it used to be null for revokeSession).
      expect(log.filter((e) => e.name === "revoked")[1]?.event).toEqual({
        id: other.id,
        userId: "hana",
        audience: "events",
        reason: "revoked",
      });

      const third = await sessions.resolve(undefined);
      third.set("b", 1);
      await sessions.commit(third);
      const fourth = await sessions.resolve(undefined);
      await fourth.login("ivan");
      clock.advance(2 * 86_400_000); // everything expired
      // The schema is shared with later suites: count what this prune deleted, and find ours in it.
      const deleted = await sessions.prune();
      const expiredIds = log.filter((e) => e.name === "expired").map((e) => e.event.id);
      expect(expiredIds).toHaveLength(deleted);
      expect(new Set(expiredIds).size).toBe(deleted);
      expect(expiredIds).toEqual(expect.arrayContaining([third.id, fourth.id]));
      expect(log.find((e) => e.name === "expired" && e.event.id === fourth.id)?.event.userId).toBe("ivan");
      expect(count("pruned")).toBe(1);
      expect(log.find((e) => e.name === "pruned")?.event).toMatchObject({ deleted });
      await sessions.prune();
      expect(count("expired")).toBe(deleted);
      expect(count("pruned")).toBe(2);

      const text = JSON.stringify(log);
      for (const token of tokens) expect(text).not.toContain(token);
    });

    it("a throwing listener is reported, never breaks the request", async () => {
      const sessions = ctx().sessions();
      const warned = await capturingWarnings(async () => {
        sessions.on("created", () => {
          throw new Error("listener bug");
        });
        let second = 0;
        sessions.on("created", () => void second++);
        await commitNewSession(sessions);
        expect(second).toBe(1);
      });
      expect(warned.join()).toContain("listener bug");
    });

    it("bug: a listener returning a rejecting thenable that is not a Promise (no catch) had a TypeError reported instead of its own error", async () => {
      const sessions = ctx().sessions();
      const warned = await capturingWarnings(async () => {
        // A minimal thenable, as some libraries return: `then` only.
        const thenable = { then: (_ok: unknown, fail: (err: unknown) => void) => fail(new Error("audit log down")) };
        sessions.on("created", () => thenable as unknown as PromiseLike<void>);
        await commitNewSession(sessions);
        await new Promise((resolve) => setImmediate(resolve));
      });
      expect(warned).toHaveLength(1);
      expect(warned[0]).toContain('"created" event listener failed: audit log down');
    });

    it("off() stops a listener, unknown names are refused", async () => {
      const sessions = ctx().sessions();
      let calls = 0;
      const off = sessions.on("created", () => void calls++);
      off();
      const session = await sessions.resolve(undefined);
      session.set("x", 1);
      await sessions.commit(session);
      expect(calls).toBe(0);
      expect(() => sessions.on("bogus" as "created", () => {})).toThrow(TypeError);
    });
  });

  describe("per-user limits and step-up", () => {
    it("maxSessionsPerUser holds when 10 logins of one user run in parallel", async () => {
      const sessions = ctx().sessions({ maxSessionsPerUser: 3, audience: "limit-a" });
      const revoked: string[] = [];
      sessions.on("revoked", (e) => void (e.reason === "limit" && revoked.push(e.id)));
      // Half are stored anonymous sessions (login rotates), half new ones (login inserts).
      const all = await Promise.all(
        Array.from({ length: 10 }, async (_, i) => {
          const session = await sessions.resolve(undefined);
          if (i % 2 === 0) {
            session.set("i", i);
            await sessions.commit(session);
          }
          return session;
        }),
      );
      await Promise.all(all.map((session) => session.login("jules")));
      const live = await sessions.listUserSessions("jules");
      expect(live).toHaveLength(3);
      expect(revoked).toHaveLength(7);
      expect(new Set([...revoked, ...live.map((s) => s.id)]).size).toBe(10);
      // Another audience, or a user under the limit, is untouched.
      const otherAudience = ctx().sessions({ maxSessionsPerUser: 3, audience: "limit-b" });
      const elsewhere = await otherAudience.resolve(undefined);
      await elsewhere.login("jules");
      expect(await sessions.listUserSessions("jules", { audience: "limit-a" })).toHaveLength(3);
      expect(await otherAudience.listUserSessions("jules", { audience: "limit-b" })).toHaveLength(1);
    });

    it("the newest login survives the limit", async () => {
      const clock = fakeClock(new Date("2031-05-01T00:00:00Z"));
      const sessions = ctx().sessions({ maxSessionsPerUser: 2, now: clock.now, audience: "limit-c" });
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) {
        const session = await sessions.resolve(undefined);
        await session.login("kim");
        ids.push(session.id);
        clock.advance(60_000);
      }
      expect((await sessions.listUserSessions("kim")).map((s) => s.id).sort()).toEqual(ids.slice(2).sort());
    });

    it("bug: a login whose transaction started before another's commit revoked its own new session (the limit ordered by transaction start)", async () => {
      // authenticated_at is the transaction's start: a login that waited on the user lock
      // looks older than the one it waited for. A clock going back stands for that order.
      const clock = fakeClock(new Date("2031-05-02T00:00:00Z"));
      const sessions = ctx().sessions({ maxSessionsPerUser: 1, now: clock.now, audience: "limit-d" });
      const first = await sessions.resolve(undefined);
      await first.login("noor");
      clock.advance(-60_000);
      const second = await sessions.resolve(undefined);
      await second.login("noor");
      expect((await sessions.listUserSessions("noor")).map((s) => s.id)).toEqual([second.id]);
    });

    it("requireRecentLogin uses authenticatedAt", async () => {
      const clock = fakeClock(new Date("2031-06-01T00:00:00Z"));
      const sessions = ctx().sessions({ now: clock.now });
      const session = await sessions.resolve(undefined);
      expect(() => requireRecentLogin(session, "10m", clock.now())).toThrow(SessionReauthRequiredError);
      await session.login("lena");
      clock.advance(5 * 60_000);
      expect(() => requireRecentLogin(session, "10m", clock.now())).not.toThrow();
      clock.advance(6 * 60_000);
      expect(isRecentLogin(session, "10m", clock.now())).toBe(false);
      try {
        requireRecentLogin(session, "10m", clock.now());
        expect.unreachable();
      } catch (err) {
        expect(err).toBeInstanceOf(SessionReauthRequiredError);
        expect((err as SessionReauthRequiredError).code).toBe("ERR_SESSION_REAUTH_REQUIRED");
        expect((err as SessionReauthRequiredError).authenticatedAt).toEqual(session.authenticatedAt);
      }
      // A rotation is not a login.
      await session.rotate();
      expect(isRecentLogin(session, "10m", clock.now())).toBe(false);
      await session.login("lena");
      expect(isRecentLogin(session, "10m", clock.now())).toBe(true);
    });

    it("revokeUserSessions({ issuedBefore }) revokes only older sessions (back-channel logout)", async () => {
      const clock = fakeClock(new Date("2031-07-01T00:00:00Z"));
      const sessions = ctx().sessions({ now: clock.now });
      const old = await sessions.resolve(undefined);
      await old.login("milo");
      clock.advance(3_600_000);
      const cutoff = clock.now();
      clock.advance(1000);
      const recent = await sessions.resolve(undefined);
      await recent.login("milo");
      const revoked: string[] = [];
      sessions.on("revoked", (e) => void revoked.push(e.id));
      expect(await sessions.revokeUserSessions("milo", { issuedBefore: cutoff })).toBe(1);
      expect(revoked).toEqual([old.id]);
      expect((await sessions.listUserSessions("milo")).map((s) => s.id)).toEqual([recent.id]);
      expect(await sessions.revokeUserSessions("milo", { except: recent })).toBe(0);
      expect(await sessions.revokeUserSessions("milo")).toBe(1);
      // A session created before the cutoff but logged in after it was issued after it.
      const early = await sessions.resolve(undefined);
      early.set("cart", 1);
      const earlyToken = tokenOf(await sessions.commit(early));
      const cutoff2 = clock.now();
      clock.advance(1000);
      const resolved = await sessions.resolveToken(earlyToken);
      await resolved.login("milo");
      expect(await sessions.revokeUserSessions("milo", { issuedBefore: cutoff2 })).toBe(0);
      expect(await sessions.revokeUserSessions("milo", { issuedBefore: clock.now() })).toBe(0);
      clock.advance(1);
      expect(await sessions.revokeUserSessions("milo", { issuedBefore: clock.now() })).toBe(1);
    });

    it("per-user calls work in the instance's audience by default; audience: null means every audience", async () => {
      const inA = ctx().sessions({ audience: "scope-a" });
      const inB = ctx().sessions({ audience: "scope-b" });
      for (const sessions of [inA, inB, inA]) await (await sessions.resolve(undefined)).login("omar");
      expect(await inA.listUserSessions("omar")).toHaveLength(2);
      expect(await inB.listUserSessions("omar")).toHaveLength(1);
      expect(await inA.listUserSessions("omar", { audience: null })).toHaveLength(3);
      expect(await inA.listUserSessions("omar", { audience: "scope-b" })).toHaveLength(1);
      const revoked: Array<string | null> = [];
      inB.on("revoked", (e) => void revoked.push(e.audience));
      expect(await inB.revokeUserSessions("omar")).toBe(1);
      expect(await inA.listUserSessions("omar", { audience: null })).toHaveLength(2);
      expect(await inB.revokeUserSessions("omar", { audience: null })).toBe(2);
      expect(revoked).toEqual(["scope-b", "scope-a", "scope-a"]);
    });
  });
});

describe("maxSessionsPerUser option", () => {
  it("is validated at start-up", async () => {
    const { createSessions } = await import("../../src/index.js");
    expect(() => createSessions({ maxSessionsPerUser: 0 })).toThrow(/maxSessionsPerUser/);
    expect(() => createSessions({ maxSessionsPerUser: 1.5 })).toThrow(/maxSessionsPerUser/);
  });
});
