/**
 * The store contract: every behaviour of the core and the SQL store, run against
 * node-postgres and postgres.js on the real PostgreSQL server, directly and through
 * pgbouncer in transaction mode (statements unnamed), and against PGlite.
 * Each target works in a schema of its own. Timeouts use an injected clock that the SQL
 * uses instead of now(), so nothing sleeps.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createSessions, shippedMigrations, type Sessions } from "../../src/index.js";
import type { SessionsOptions } from "../../src/manager/options.js";
import { hashToken } from "../../src/session/token.js";
import {
  SessionConfigError,
  SessionConflictError,
  SessionDataError,
  SessionDataTooLargeError,
  SessionGoneError,
  SessionStoreError,
} from "../../src/errors.js";
import type { StoreDriver } from "../../src/driver.js";
import { allTargets, canRun, fakeClock, uniqueSchema, type TestTarget } from "../support/db.js";
import { pooledTargets } from "../support/pooler.js";
import { counting, tokenOf } from "../support/recording.js";

/** The migrations this version ships. */
const SHIPPED = shippedMigrations().map((m) => m.version);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

for (const kind of [...allTargets, ...pooledTargets]) {
  describe.skipIf(!canRun(kind))(`store contract on ${kind.name}`, () => {
    let target: TestTarget;
    let driver: StoreDriver;
    let schema: string;
    let clock: ReturnType<typeof fakeClock>;
    let count: ReturnType<typeof counting>;
    let sessions: Sessions<Record<string, unknown>>;
    const extra: Array<Sessions<Record<string, unknown>>> = [];

    const make = (options: SessionsOptions = {}) => {
      const made = createSessions({ store: count.driver, schema, now: clock.now, ...options });
      extra.push(made);
      return made;
    };
    const table = () => `"${schema}"."sessions"`;
    const rows = (where = "true", params: unknown[] = []) => target.sql(`SELECT * FROM ${table()} WHERE ${where}`, params);

    /** A stored session and its cookie header. */
    async function stored(data: Record<string, unknown> = { n: 0 }, via = sessions) {
      const session = await via.resolve(undefined, { ip: "127.0.0.1", userAgent: "vitest" });
      for (const [key, value] of Object.entries(data)) session.set(key, value);
      const token = tokenOf(await via.commit(session));
      return { session, token, cookie: `session=${token}` };
    }

    beforeAll(async () => {
      target = kind.make();
      driver = await target.open();
      schema = uniqueSchema("contract");
      count = counting(driver);
      clock = fakeClock();
      sessions = createSessions({ store: count.driver, schema, now: clock.now });
      expect(await sessions.migrate()).toEqual(SHIPPED);
    });

    afterAll(async () => {
      await target?.sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await target?.end();
    });

    beforeEach(() => {
      clock.advance(DAY * 400); // every test starts long after the previous one's sessions expired
      count.reset();
    });

    describe("tokens", () => {
      it("no row contains the token; the row holds its SHA-256", async () => {
        const { token, session } = await stored({ secret: "value" });
        const dump = JSON.stringify(await rows());
        expect(dump).not.toContain(token);
        const [row] = await target.sql(`SELECT encode(token_hash, 'hex') AS hash FROM ${table()} WHERE id = $1`, [session.id]);
        expect(row?.hash).toBe(hashToken(token));
        expect(session.id).not.toBe(token);
        expect(JSON.stringify(session)).not.toContain(token);
      });

      it("a cookie of the wrong length or alphabet is no session, without any query", async () => {
        for (const header of [
          "session=abc",
          `session=${"!".repeat(43)}`,
          `session=${"A".repeat(44)}`,
          "session=",
          "session=a; session=b",
        ]) {
          count.reset();
          const session = await sessions.resolve(header);
          expect(session.isNew).toBe(true);
          expect(count.names).toEqual([]);
        }
      });
    });

    describe("resolve", () => {
      it("no cookie -> a new session, not stored until it has data", async () => {
        const before = (await rows()).length;
        const session = await sessions.resolve(undefined);
        expect(session.isNew).toBe(true);
        expect(await sessions.commit(session)).toBeNull();
        expect(await rows()).toHaveLength(before);
        expect(count.names).toEqual([]);
      });

      it("saveUninitialized stores an empty session at once", async () => {
        const eager = make({ saveUninitialized: true });
        const session = await eager.resolve(undefined);
        const cookie = await eager.commit(session);
        expect(cookie).toMatch(/^session=/);
        expect(await rows("id = $1", [session.id])).toHaveLength(1);
      });

      it("a live token -> that session, with its data", async () => {
        const { cookie, session } = await stored({ n: 7 });
        const again = await sessions.resolve(cookie);
        expect(again.isNew).toBe(false);
        expect(again.id).toBe(session.id);
        expect(again.get("n")).toBe(7);
        expect(count.names.filter((n) => n === "find")).toHaveLength(1);
      });

      it("an unknown, well-formed token -> a new session with a NEW token; the forged one is never stored", async () => {
        const forged = "A".repeat(42) + "E";
        const session = await sessions.resolve(`session=${forged}`);
        expect(session.isNew).toBe(true);
        session.set("x", 1);
        const token = tokenOf(await sessions.commit(session));
        expect(token).not.toBe(forged);
        expect(await rows("token_hash = decode($1, 'hex')", [hashToken(forged)])).toHaveLength(0);
      });

      it("an expired or revoked token -> a new session", async () => {
        const a = await stored();
        clock.advance(DAY + 1000);
        expect((await sessions.resolve(a.cookie)).isNew).toBe(true);
        const b = await stored();
        expect(await sessions.revokeSession(b.session.id)).toBe(true);
        expect((await sessions.resolve(b.cookie)).isNew).toBe(true);
      });
    });

    describe("data", () => {
      it("get / set / delete / clear / has / keys", async () => {
        const { cookie } = await stored({ a: 1, b: { deep: [1, 2] } });
        const s = await sessions.resolve(cookie);
        expect(s.get("b")).toEqual({ deep: [1, 2] });
        s.delete("a").set("c", "three");
        expect(s.has("a")).toBe(false);
        await sessions.commit(s);
        const t = await sessions.resolve(cookie);
        expect(t.toJSON()).toEqual({ b: { deep: [1, 2] }, c: "three" });
        t.clear().set("only", true);
        await sessions.commit(t);
        expect((await sessions.resolve(cookie)).keys()).toEqual(["only"]);
      });

      it("__proto__ and constructor are plain keys, never a prototype change", async () => {
        const { cookie } = await stored();
        const s = await sessions.resolve(cookie);
        s.set("__proto__", { polluted: true });
        s.set("constructor", "x");
        await sessions.commit(s);
        const t = await sessions.resolve(cookie);
        expect(t.get("__proto__")).toEqual({ polluted: true });
        expect(t.get("constructor")).toBe("x");
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        expect(Object.getPrototypeOf(t.toJSON())).toBeNull();
        expect(t.get("toString")).toBeUndefined();
      });

      it("non-JSON values: clear errors or the documented conversion", async () => {
        const s = await sessions.resolve(undefined);
        expect(() => s.set("n", 10n)).toThrow(SessionDataError);
        expect(() => s.set("f", () => 1)).toThrow(SessionDataError);
        expect(() => s.set("nul", "a\u0000b")).toThrow(SessionDataError);
        const cycle: Record<string, unknown> = {};
        cycle.self = cycle;
        expect(() => s.set("c", cycle)).toThrow(SessionDataError);
        expect(() => s.set("", 1)).toThrow(SessionDataError);
        s.set("when", new Date("2030-01-02T03:04:05.000Z"));
        expect(s.get("when")).toBe("2030-01-02T03:04:05.000Z");
        s.set("gone", 1).set("gone", undefined);
        expect(s.has("gone")).toBe(false);
      });

      it("data past maxDataSize -> SessionDataTooLargeError, nothing written", async () => {
        const small = make({ maxDataSize: 1000 });
        const s = await small.resolve(undefined);
        s.set("blob", "x".repeat(2000));
        const error = await small.commit(s).catch((err: unknown) => err);
        expect(error).toBeInstanceOf(SessionDataTooLargeError);
        expect(error).toMatchObject({ code: "ERR_SESSION_DATA_TOO_LARGE", limit: 1000 });
        expect(await rows("id = $1", [s.id])).toHaveLength(0);
        // The default is 64 KiB.
        const big = await sessions.resolve(undefined);
        big.set("blob", "x".repeat(70_000));
        await expect(sessions.commit(big)).rejects.toBeInstanceOf(SessionDataTooLargeError);
      });
    });

    describe("writes", () => {
      it("with no injected clock, every statement runs on the database's clock (now(), one parameter fewer)", async () => {
        const real = createSessions({ store: count.driver, schema });
        extra.push(real);
        count.reset();
        const s = await real.resolve(undefined);
        s.set("n", 1);
        const cookie = `session=${tokenOf(await real.commit(s))}`;
        const read = await real.resolve(cookie);
        expect(read.get("n")).toBe(1);
        expect(Math.abs(read.createdAt.getTime() - Date.now())).toBeLessThan(60_000);
        read.set("n", 2);
        await read.login("nora");
        const next = `session=${tokenOf(await real.commit(read))}`;
        const again = await real.resolve(next);
        again.set("n", 3);
        await real.commit(again);
        expect((await real.resolve(next)).get("n")).toBe(3);
        expect((await real.listUserSessions("nora")).map((x) => x.id)).toEqual([again.id]);
        await again.logout();
        await real.commit(again);
        expect((await real.resolve(next)).isNew).toBe(true);
        expect(count.names).toEqual([
          "insert_now",
          "find_now",
          "rotate_now",
          "find_now",
          "save_merge_now",
          "find_now",
          "list_by_user_now",
          "remove_now",
          "find_now",
          "find_previous_now",
        ]);
      });

      it("a request that changed nothing writes nothing", async () => {
        const { cookie, session } = await stored({ n: 1 });
        const [before] = await target.sql(`SELECT xmin::text AS x, version FROM ${table()} WHERE id = $1`, [session.id]);
        count.reset();
        const s = await sessions.resolve(cookie);
        s.get("n");
        expect(await sessions.commit(s)).toBeNull();
        expect(count.names).toEqual(["find"]);
        const [after] = await target.sql(`SELECT xmin::text AS x, version FROM ${table()} WHERE id = $1`, [session.id]);
        expect(after).toEqual(before);
      });

      it("creating is one INSERT; saving is one UPDATE of the changed keys, bumping the version", async () => {
        const s = await sessions.resolve(undefined);
        s.set("n", 1);
        count.reset();
        const token = tokenOf(await sessions.commit(s));
        expect(count.names).toEqual(["insert"]);
        expect(s.version).toBe(1);
        const t = await sessions.resolve(`session=${token}`);
        t.set("n", 2);
        count.reset();
        expect(await sessions.commit(t)).toBeNull();
        expect(count.names).toEqual(["save_merge"]);
        expect(t.version).toBe(2);
        // Deleting a key (or clearing, or compare-and-set) takes the general save, still one UPDATE.
        t.delete("n");
        count.reset();
        await sessions.commit(t);
        expect(count.names).toEqual(["save"]);
        expect(t.version).toBe(3);
      });

      it("20 parallel writes of different keys to one session all survive", async () => {
        const { cookie, session } = await stored({ base: true });
        await Promise.all(
          Array.from({ length: 20 }, async (_, i) => {
            const s = await sessions.resolve(cookie);
            s.set(`k${i}`, i);
            await sessions.commit(s);
          }),
        );
        const [row] = await rows("id = $1", [session.id]);
        const data = row?.data as Record<string, unknown>;
        expect(Object.keys(data).sort()).toEqual(["base", ...Array.from({ length: 20 }, (_, i) => `k${i}`)].sort());
        expect(row?.version).toBe(21);
      });

      it("a write after logout or revocation changes nothing and reports the session gone", async () => {
        const { cookie, session } = await stored({ n: 1 });
        const inFlight = await sessions.resolve(cookie);
        const other = await sessions.resolve(cookie);
        await other.logout();
        inFlight.set("n", 2);
        await expect(sessions.commit(inFlight)).rejects.toBeInstanceOf(SessionGoneError);
        expect(await rows("id = $1", [session.id])).toHaveLength(0);

        const b = await stored({ n: 1 });
        const held = await sessions.resolve(b.cookie);
        await sessions.revokeSession(b.session.id);
        held.set("n", 5);
        await expect(sessions.commit(held)).rejects.toMatchObject({ code: "ERR_SESSION_GONE" });
        await expect(held.rotate()).rejects.toBeInstanceOf(SessionGoneError);
        expect(await rows("id = $1", [b.session.id])).toHaveLength(0);
      });

      it("a write never revives an expired session", async () => {
        const { cookie, session } = await stored({ n: 1 });
        const held = await sessions.resolve(cookie);
        clock.advance(DAY + 1);
        held.set("n", 2);
        await expect(sessions.commit(held)).rejects.toBeInstanceOf(SessionGoneError);
        const [row] = await rows("id = $1", [session.id]);
        expect(row?.data).toEqual({ n: 1 });
      });

      it("compare-and-set fails with a typed conflict when another request wrote first", async () => {
        const { cookie } = await stored({ n: 1 });
        const a = await sessions.resolve(cookie);
        const b = await sessions.resolve(cookie);
        b.set("n", 2);
        await sessions.commit(b, { compareAndSet: true });
        a.set("n", 3);
        const error = await sessions.commit(a, { compareAndSet: true }).catch((err: unknown) => err);
        expect(error).toBeInstanceOf(SessionConflictError);
        expect((await sessions.resolve(cookie)).get("n")).toBe(2);
      });
    });

    describe("timeouts (database-side, injected clock)", () => {
      it("idle timeout slides, at most once per touchAfter, and the read plus touch is one statement", async () => {
        const { cookie, session } = await stored();
        const created = session.expiresAt.getTime();
        // Within touchAfter (2.4 h): reads write nothing.
        clock.advance(HOUR);
        const [before] = await target.sql(`SELECT xmin::text AS x FROM ${table()} WHERE id = $1`, [session.id]);
        count.reset();
        const early = await sessions.resolve(cookie);
        expect(count.names).toEqual(["find"]);
        expect(early.expiresAt.getTime()).toBe(created);
        const [same] = await target.sql(`SELECT xmin::text AS x FROM ${table()} WHERE id = $1`, [session.id]);
        expect(same).toEqual(before);
        // Past touchAfter: the same single statement extends the expiry.
        clock.advance(2 * HOUR);
        count.reset();
        const touched = await sessions.resolve(cookie);
        expect(count.names).toEqual(["find"]);
        expect(touched.expiresAt.getTime()).toBe(clock.now().getTime() + DAY);
        expect(touched.lastSeenAt.getTime()).toBe(clock.now().getTime());
        // Still alive 23 h later thanks to the touch, dead 25 h later.
        clock.advance(23 * HOUR);
        expect((await sessions.resolve(cookie)).isNew).toBe(false);
        clock.advance(DAY + 1);
        expect((await sessions.resolve(cookie)).isNew).toBe(true);
      });

      it("the absolute timeout is never extended by touches nor reset by rotation", async () => {
        const { cookie, session } = await stored();
        let current = cookie;
        for (let day = 0; day < 8; day++) {
          clock.advance(20 * HOUR);
          const s = await sessions.resolve(current);
          expect(s.isNew).toBe(false);
          await s.rotate();
          current = `session=${tokenOf(await sessions.commit(s))}`;
        }
        expect((await sessions.resolve(current)).id).toBe(session.id);
        clock.advance(20 * HOUR); // 180 h > 7 d, though touched 20 h ago
        expect((await sessions.resolve(current)).isNew).toBe(true);
      });

      it("remember-me sessions get the longer pair, and a persistent cookie", async () => {
        const s = await sessions.resolve(undefined);
        await s.login("rita", { remember: true });
        const setCookie = await sessions.commit(s);
        expect(setCookie).toMatch(/Max-Age=7776000/);
        expect(s.remember).toBe(true);
        expect(s.expiresAt.getTime()).toBe(clock.now().getTime() + 30 * DAY);
        clock.advance(10 * DAY);
        expect((await sessions.resolve(`session=${tokenOf(setCookie)}`)).userId).toBe("rita");
        const plain = await sessions.resolve(undefined);
        await plain.login("paul");
        expect(await sessions.commit(plain)).not.toMatch(/Max-Age/);
      });

      it("per-session overrides at login", async () => {
        const s = await sessions.resolve(undefined);
        await s.login("olga", { idleTimeout: "10m", absoluteTimeout: "1h" });
        const cookie = `session=${tokenOf(await sessions.commit(s))}`;
        clock.advance(9 * 60_000);
        expect((await sessions.resolve(cookie)).isNew).toBe(false);
        clock.advance(11 * 60_000);
        expect((await sessions.resolve(cookie)).isNew).toBe(true);
        await expect(s.login("olga", { idleTimeout: "never" })).rejects.toBeInstanceOf(SessionConfigError);
      });

      it("times read back are the same instants whatever the connection's TimeZone and DateStyle", async () => {
        // The read sends timestamptz as JSON text, which carries the connection's offset:
        // a zone 5 h 45 min east of UTC and a day-first DateStyle must change nothing.
        const zoned = createSessions({
          store: await target.open({ TimeZone: "Asia/Kathmandu", DateStyle: "SQL, DMY" }),
          schema,
          now: clock.now,
        });
        extra.push(zoned);
        await zoned.migrate();
        const startMs = clock.now().getTime() + 789; // a millisecond part, kept exactly
        clock.set(new Date(startMs));
        const s = await zoned.resolve(undefined);
        s.set("n", 1);
        const cookie = `session=${tokenOf(await zoned.commit(s))}`;
        clock.advance(HOUR);
        const loggedIn = await zoned.resolve(cookie);
        await loggedIn.login("kiran", { remember: true });
        const next = `session=${tokenOf(await zoned.commit(loggedIn))}`;
        const loginMs = startMs + HOUR;
        clock.advance(HOUR); // within touchAfter (3 days for remember-me): a plain read
        const read = await zoned.resolve(next);
        expect(read.userId).toBe("kiran");
        expect(read.createdAt.getTime()).toBe(startMs);
        expect(read.lastSeenAt.getTime()).toBe(loginMs);
        expect(read.authenticatedAt?.getTime()).toBe(loginMs);
        expect(read.expiresAt.getTime()).toBe(loginMs + 30 * DAY);
        // The persistent cookie's lifetime comes from the absolute expiry as read.
        read.set("n", 2);
        await read.rotate();
        expect(await zoned.commit(read)).toMatch(new RegExp(`Max-Age=${(90 * DAY - HOUR) / 1000}(;|$)`));
      });
    });

    describe("rotation, login, logout", () => {
      it("rotate keeps data and id; the old token works for staleTtl, then never again", async () => {
        const { cookie, session } = await stored({ n: 3 });
        const s = await sessions.resolve(cookie);
        await s.rotate();
        const next = `session=${tokenOf(await sessions.commit(s))}`;
        expect(next).not.toBe(cookie);
        const viaNew = await sessions.resolve(next);
        expect(viaNew.id).toBe(session.id);
        expect(viaNew.get("n")).toBe(3);
        clock.advance(9_000);
        const viaOld = await sessions.resolve(cookie);
        expect(viaOld.id).toBe(session.id);
        viaOld.set("late", true); // an in-flight request's write still lands
        await sessions.commit(viaOld);
        expect((await sessions.resolve(next)).get("late")).toBe(true);
        clock.advance(2_000);
        expect((await sessions.resolve(cookie)).isNew).toBe(true);
        expect((await sessions.resolve(next)).id).toBe(session.id);
      });

      it("parallel rotations of one token yield exactly one successor", async () => {
        const { cookie, session } = await stored();
        const holders = await Promise.all(Array.from({ length: 5 }, () => sessions.resolve(cookie)));
        const results = await Promise.allSettled(holders.map((h) => h.rotate()));
        expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
        for (const r of results) if (r.status === "rejected") expect(r.reason).toBeInstanceOf(SessionConflictError);
        const [row] = await target.sql(`SELECT count(*)::int AS n FROM ${table()} WHERE id = $1`, [session.id]);
        expect(row?.n).toBe(1);
      });

      it("a session resolved by its stale token cannot rotate again; a login from it starts a new session with its data", async () => {
        const { cookie, session } = await stored({ cart: ["book"] });
        const s = await sessions.resolve(cookie);
        await s.rotate();
        const successor = `session=${tokenOf(await sessions.commit(s))}`;
        const stale = await sessions.resolve(cookie);
        await expect(stale.rotate()).rejects.toBeInstanceOf(SessionConflictError);
        // A second tab (or a client whose rotation was stored though its answer was lost) signs in.
        stale.set("theme", "dark");
        await stale.login("mallory");
        expect(stale.id).not.toBe(session.id);
        const signedIn = await sessions.resolve(`session=${tokenOf(await sessions.commit(stale))}`);
        expect(signedIn.userId).toBe("mallory");
        expect(signedIn.toJSON()).toEqual({ cart: ["book"], theme: "dark" });
        // The rotated session lives on, untouched, under its successor.
        const kept = await sessions.resolve(successor);
        expect(kept.id).toBe(session.id);
        expect(kept.userId).toBeNull();
        expect(kept.toJSON()).toEqual({ cart: ["book"] });
      });

      it("bug: the token held before a login kept naming the logged-in session for staleTtl (session fixation); now it names nothing", async () => {
        // The attacker's token, planted in the victim's browser before the victim signs in.
        const { cookie: planted, token: plantedToken, session } = await stored({ cart: ["book"] });
        const inFlight = await sessions.resolve(planted); // a request of the victim's, resolved before the login
        const victim = await sessions.resolve(planted);
        await victim.login("victim");
        const loggedIn = `session=${tokenOf(await sessions.commit(victim))}`;
        clock.advance(1_000); // well inside staleTtl
        const attacker = await sessions.resolve(planted);
        expect(attacker.isNew).toBe(true);
        expect(attacker.userId).toBeNull();
        expect(attacker.keys()).toEqual([]);
        expect(attacker.id).not.toBe(session.id);
        // Its writes are refused: stored, they would start a session whose cookie replaces the login's.
        attacker.set("x", 1);
        await expect(sessions.commit(attacker)).rejects.toBeInstanceOf(SessionConflictError);
        // A write of a request that resolved before the login is refused too, as a conflict (the session lives on).
        inFlight.set("late", true);
        await expect(sessions.commit(inFlight)).rejects.toBeInstanceOf(SessionConflictError);
        await expect(sessions.store.get(plantedToken)).resolves.toBeNull();
        await expect(inFlight.rotate()).rejects.toBeInstanceOf(SessionConflictError);
        // Nothing reached the logged-in session through the old token.
        const [row] = await rows("id = $1", [session.id]);
        expect(row).toMatchObject({ user_id: "victim", data: { cart: ["book"] } });
        const after = await sessions.resolve(loggedIn);
        expect(after.userId).toBe("victim");
        // Logging in from the retired token (a retried or double-submitted login) starts a new session.
        const retry = await sessions.resolve(planted);
        await retry.login("victim");
        expect(retry.id).not.toBe(session.id);
        expect((await sessions.resolve(`session=${tokenOf(await sessions.commit(retry))}`)).userId).toBe("victim");
        // Once the grace window is over the retired token is simply unknown.
        clock.advance(10_000);
        const late = await sessions.resolve(planted);
        late.set("y", 1);
        expect(await sessions.commit(late)).toMatch(/^session=/);
      });

      it("login rotates the token, binds the user, records metadata, and is stored before it resolves", async () => {
        const { cookie, session } = await stored({ cart: ["book"] });
        const s = await sessions.resolve(cookie, { ip: "10.0.0.9", userAgent: "Firefox" });
        s.set("theme", "dark");
        await s.login("alice");
        expect(s.isAuthenticated).toBe(true);
        expect(s.userId).toBe("alice");
        expect(s.authenticatedAt?.getTime()).toBe(clock.now().getTime());
        const [row] = await rows("id = $1", [session.id]);
        expect(row).toMatchObject({ user_id: "alice", ip: "10.0.0.9", user_agent: "Firefox", data: { cart: ["book"], theme: "dark" } });
        const next = tokenOf(await sessions.commit(s));
        expect(`session=${next}`).not.toBe(cookie);
        expect((await sessions.resolve(`session=${next}`)).userId).toBe("alice");
      });

      it("login on a brand-new session inserts it with the user", async () => {
        const s = await sessions.resolve(undefined, { userAgent: "curl" });
        count.reset();
        await s.login("bob");
        expect(count.names).toEqual(["insert"]);
        expect(s.isNew).toBe(false);
        expect((await sessions.resolve(`session=${tokenOf(await sessions.commit(s))}`)).userId).toBe("bob");
      });

      it("logout deletes the row and clears the cookie; the object becomes a fresh session", async () => {
        const { cookie, session } = await stored({ n: 1 });
        const s = await sessions.resolve(cookie);
        await s.logout();
        expect(await rows("id = $1", [session.id])).toHaveLength(0);
        expect(s.isNew).toBe(true);
        expect(s.id).not.toBe(session.id);
        expect(await sessions.commit(s)).toMatch(/^session=; Max-Age=0/);
        expect((await sessions.resolve(cookie)).isNew).toBe(true);
      });

      it("logout followed by new data stores a new session instead of clearing", async () => {
        const { cookie } = await stored();
        const s = await sessions.resolve(cookie);
        await s.logout();
        s.set("flash", "bye");
        const next = tokenOf(await sessions.commit(s));
        expect(`session=${next}`).not.toBe(cookie);
        expect((await sessions.resolve(`session=${next}`)).get("flash")).toBe("bye");
      });
    });

    describe("users and audiences", () => {
      it("lists a user's live sessions with metadata and marks the current one", async () => {
        const user = `u-${Math.random()}`;
        const a = await sessions.resolve(undefined, { ip: "1.1.1.1", userAgent: "laptop" });
        await a.login(user, { remember: true });
        const b = await sessions.resolve(undefined, { ip: "2.2.2.2", userAgent: "phone" });
        await b.login(user);
        const expired = await sessions.resolve(undefined);
        await expired.login(user, { idleTimeout: "1m" });
        clock.advance(2 * 60_000);
        const list = await sessions.listUserSessions(user, { current: a });
        expect(list.map((s) => s.userAgent).sort()).toEqual(["laptop", "phone"]);
        const mine = list.find((s) => s.current);
        expect(mine).toMatchObject({ id: a.id, ip: "1.1.1.1", remember: true, audience: null });
        expect(mine?.createdAt).toBeInstanceOf(Date);
        expect(mine?.lastSeenAt).toBeInstanceOf(Date);
        expect(mine?.expiresAt.getTime()).toBeGreaterThan(clock.now().getTime());
        expect(list.filter((s) => s.current)).toHaveLength(1);
        expect(JSON.stringify(list)).not.toMatch(/token/i);
      });

      it("revokes one, all but the current, or all; per audience", async () => {
        const user = `u-${Math.random()}`;
        const app1 = make({ audience: "app1" });
        const app2 = make({ audience: "app2" });
        const s1 = await app1.resolve(undefined);
        await s1.login(user);
        const s2 = await app1.resolve(undefined);
        await s2.login(user);
        const s3 = await app2.resolve(undefined);
        await s3.login(user);
        expect(s3.audience).toBe("app2");
        expect(await sessions.listUserSessions(user, { audience: "app1" })).toHaveLength(2);
        expect(await sessions.revokeUserSessions(user, { audience: "app1", except: s1 })).toBe(1);
        expect((await sessions.listUserSessions(user)).map((s) => s.id).sort()).toEqual([s1.id, s3.id].sort());
        expect(await sessions.revokeSession(s3.id)).toBe(true);
        expect(await sessions.revokeSession(s3.id)).toBe(false);
        expect(await sessions.revokeUserSessions(user)).toBe(1);
        expect(await sessions.listUserSessions(user)).toEqual([]);
      });

      it("revokes sessions issued before a time (back-channel logout)", async () => {
        const user = `u-${Math.random()}`;
        const old = await sessions.resolve(undefined);
        await old.login(user);
        clock.advance(60_000);
        const cutoff = clock.now();
        clock.advance(60_000);
        const fresh = await sessions.resolve(undefined);
        await fresh.login(user);
        expect(await sessions.revokeUserSessions(user, { issuedBefore: cutoff })).toBe(1);
        expect((await sessions.listUserSessions(user)).map((s) => s.id)).toEqual([fresh.id]);
      });
    });

    describe("low-level store", () => {
      it("create / get / set / delete with ttl, and a default period", async () => {
        const store = sessions.store;
        expect(store.defaultTtl).toBe(7 * DAY);
        const token = await store.create({ data: { cart: [] }, ttl: "1h" });
        expect(await store.get(token)).toEqual({ data: { cart: [] }, expiresIn: HOUR });
        clock.advance(30 * 60_000);
        await store.set(token, { cart: ["book"] });
        expect(await store.get(token)).toEqual({ data: { cart: ["book"] }, expiresIn: HOUR / 2 });
        await store.set(token, { cart: ["book", "pen"] }, { ttl: "2h" });
        expect((await store.get(token))?.expiresIn).toBe(2 * HOUR);
        expect(await store.delete(token)).toBe(true);
        expect(await store.get(token)).toBeNull();
        await expect(store.set(token, {})).rejects.toBeInstanceOf(SessionGoneError);
        expect(await store.get("not-a-token")).toBeNull();

        store.defaultTtl = "2d";
        expect(store.defaultTtl).toBe(2 * DAY);
        const t2 = await store.create();
        expect((await store.get(t2))?.expiresIn).toBe(2 * DAY);
        clock.advance(2 * DAY + 1);
        expect(await store.get(t2)).toBeNull();
        expect(await store.cleanup()).toBeGreaterThanOrEqual(1);
        store.defaultTtl = "7d";
      });

      it("foreign keys: put sets the lifetime from now, renew moves it by touchAfter or more, end leaves a tombstone", async () => {
        const bySid = sessions.store.withForeignKeys();
        const sid = `sid-${kind.name.replace(/\W+/g, "_")}-lifetime`;
        const left = async () => (await bySid.get(sid))?.expiresIn;
        await bySid.put(sid, { n: 1 }, { ttl: HOUR });
        expect(await bySid.get(sid)).toEqual({ data: { n: 1 }, expiresIn: HOUR });
        clock.advance(HOUR / 2);
        // A live session takes the lifetime of each put ("remember me" lengthens it).
        await bySid.put(sid, { n: 2 }, { ttl: 30 * DAY });
        expect(await bySid.get(sid)).toEqual({ data: { n: 2 }, expiresIn: 30 * DAY });
        // A renew that would move the expiry by less than a tenth of the lifetime writes nothing.
        clock.advance(HOUR);
        expect(await bySid.renew(sid, { ttl: 30 * DAY })).toBe(false);
        expect(await left()).toBe(30 * DAY - HOUR);
        clock.advance(3 * DAY);
        expect(await bySid.renew(sid, { ttl: 30 * DAY })).toBe(true);
        expect(await left()).toBe(30 * DAY);
        // A shorter lifetime applies at once.
        expect(await bySid.renew(sid, { ttl: HOUR })).toBe(true);
        expect(await left()).toBe(HOUR);
        // No absolute limit unless one is given: renewed daily, it outlives the manager's 7 days.
        for (let day = 0; day < 10; day++) {
          clock.advance(HOUR - 1);
          expect(await bySid.renew(sid, { ttl: HOUR })).toBe(true);
        }
        expect(await left()).toBe(HOUR);

        expect(await bySid.end(sid)).toBe(true);
        expect(await bySid.get(sid)).toBeNull();
        expect(await bySid.renew(sid, { ttl: HOUR })).toBe(false);
        await expect(bySid.put(sid, { n: 3 }, { ttl: HOUR })).rejects.toBeInstanceOf(SessionGoneError);
        expect(await rows("token_hash = decode($1, 'hex')", [hashToken(sid)])).toEqual([
          expect.objectContaining({ data: {}, user_id: null }),
        ]);
      });

      it("foreign keys: an absolute limit ends the session however it is renewed; parallel first puts make one session", async () => {
        const bySid = sessions.store.withForeignKeys();
        const sid = `sid-${kind.name.replace(/\W+/g, "_")}-absolute`;
        await bySid.put(sid, { n: 1 }, { ttl: DAY, absoluteTimeout: 2 * DAY });
        clock.advance(20 * HOUR);
        expect(await bySid.renew(sid, { ttl: DAY })).toBe(true);
        expect((await bySid.get(sid))?.expiresIn).toBe(DAY);
        clock.advance(20 * HOUR);
        expect(await bySid.renew(sid, { ttl: DAY })).toBe(true);
        expect((await bySid.get(sid))?.expiresIn).toBe(8 * HOUR); // capped: two days after creation
        await bySid.put(sid, { n: 2 }, { ttl: DAY, absoluteTimeout: 30 * DAY }); // the limit was fixed at creation
        expect((await bySid.get(sid))?.expiresIn).toBe(8 * HOUR);
        clock.advance(8 * HOUR);
        expect(await bySid.get(sid)).toBeNull();

        const fresh = `sid-${kind.name.replace(/\W+/g, "_")}-parallel`;
        await Promise.all([1, 2, 3].map((n) => bySid.put(fresh, { n }, { ttl: HOUR })));
        expect(await rows("token_hash = decode($1, 'hex')", [hashToken(fresh)])).toHaveLength(1);
        expect((await bySid.get<{ n: number }>(fresh))?.data.n).toBeOneOf([1, 2, 3]);
      });
    });

    describe("schema and migrations", () => {
      it("migrate is idempotent, also when instances start at once", async () => {
        expect(await sessions.migrate()).toEqual([]);
        const parallelSchema = uniqueSchema("mig");
        const results = await Promise.all([1, 2, 3].map(() => createSessions({ store: driver, schema: parallelSchema }).migrate()));
        expect(results.flat()).toEqual(SHIPPED);
        await target.sql(`DROP SCHEMA "${parallelSchema}" CASCADE`);
      });

      it("a read before migrate fails as a store error that says to migrate; every migrate defines the SQL functions anew", async () => {
        const s = uniqueSchema("old");
        const fresh = createSessions({ store: driver, schema: s });
        const error = await fresh.resolveToken("A".repeat(43)).catch((err: unknown) => err);
        expect(error).toBeInstanceOf(SessionStoreError);
        expect((error as SessionStoreError).message).toMatch(/migrate/);
        expect(await fresh.migrate()).toEqual(SHIPPED);
        const functions = () =>
          target.sql(
            `SELECT p.proname, pg_get_functiondef(p.oid) AS definition FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = $1 ORDER BY p.proname`,
            [s],
          );
        const defined = await functions();
        expect(defined.map((row) => row.proname)).toEqual([
          "audience",
          "new_public_id",
          "random_base64url",
          "session_handler",
          "session_id",
          "sessions_changed",
          "sessions_find",
          "sessions_merge",
          "sessions_touch",
          "token_hash",
          "user_id",
        ]);
        // Functions lost or changed since (an older release's, or a hand edit) are back after
        // the next migrate, though it applies no migration; migrating again changes nothing.
        await target.sql(`DROP FUNCTION "${s}".sessions_touch(text, timestamptz)`);
        await target.sql(`DROP FUNCTION "${s}".session_handler(text, interval, interval, text)`);
        await target.sql(`CREATE OR REPLACE FUNCTION "${s}".session_id() RETURNS text LANGUAGE sql AS $$ SELECT 'stale' $$`);
        expect(await fresh.migrate()).toEqual([]);
        expect(await functions()).toEqual(defined);
        expect(await fresh.migrate()).toEqual([]);
        expect(await functions()).toEqual(defined);
        expect(await fresh.migrationStatus()).toEqual({ applied: SHIPPED, latest: SHIPPED.at(-1) });
        const session = await fresh.resolve(undefined);
        session.set("k", 1);
        const cookie = (await fresh.commit(session)) as string;
        expect((await fresh.resolve(cookie.split(";")[0])).get("k")).toBe(1);
        await target.sql(`DROP SCHEMA "${s}" CASCADE`);
      });

      it("every writer keeps the idle expiry at or before the absolute one, which reads rely on (no CHECK constraint)", async () => {
        // Reads test liveness on idle_expires_at alone, so the rule is what enforces the
        // absolute lifetime. Each writer near the end of the absolute lifetime:
        const s = await sessions.resolve(undefined);
        await s.login("ines", { idleTimeout: "40m", absoluteTimeout: "1h" }); // insert
        const cookie = `session=${tokenOf(await sessions.commit(s))}`;
        clock.advance(30 * 60_000);
        const touched = await sessions.resolve(cookie); // touch: 30 + 40 min would pass the hour
        expect(touched.isNew).toBe(false);
        expect(touched.expiresAt.getTime()).toBe(clock.now().getTime() + 30 * 60_000);
        touched.set("n", 1);
        await touched.rotate(); // save and rotation
        const rotated = `session=${tokenOf(await sessions.commit(touched))}`;
        const again = await sessions.resolve(rotated);
        await again.login("ines"); // login: the standard pair again, 7 days from now
        await sessions.commit(again);
        const token = await sessions.store.create({ data: {}, ttl: "1h" }); // low-level store
        await sessions.store.set(token, { a: 1 }, { ttl: "2h" });
        const [row] = (await target.sql(
          `SELECT bool_and(idle_expires_at <= absolute_expires_at) AS ok, count(*)::int AS n FROM ${table()} WHERE idle_expires_at > $1`,
          [clock.now()],
        )) as Array<{ ok: boolean; n: number }>;
        expect(row?.n).toBeGreaterThanOrEqual(2);
        expect(row?.ok).toBe(true);
        // session_handler(), on the database's clock: an idle timeout of a year compares equal
        // to 360 days, yet a year from now is later than 360 days from now.
        const [handled] = await target.sql(`SELECT "${schema}".session_handler(NULL, interval '1 year', interval '360 days') AS token`);
        const byToken = `FROM ${table()} WHERE token_hash = "${schema}".token_hash($1)`;
        const [made] = await target.sql(`SELECT idle_expires_at = absolute_expires_at AS capped ${byToken}`, [handled?.token]);
        expect(made?.capped).toBe(true);
        // ...and its touch, once due.
        await target.sql(
          `UPDATE ${table()} SET last_seen_at = last_seen_at - interval '40 days' WHERE token_hash = "${schema}".token_hash($1)`,
          [handled?.token],
        );
        const [handledAgain] = await target.sql(`SELECT "${schema}".session_handler($1) AS token`, [handled?.token]);
        expect(handledAgain?.token).toBe(handled?.token);
        const [touchedBySql] = await target.sql(
          `SELECT last_seen_at > now() - interval '1 hour' AS seen, idle_expires_at = absolute_expires_at AS capped ${byToken}`,
          [handled?.token],
        );
        expect(touchedBySql).toEqual({ seen: true, capped: true });
        // The rule is no constraint any more: PostgreSQL no longer pays for one on every write.
        const checks = await target.sql(`SELECT conname FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'c'`, [
          `"${schema}".sessions`,
        ]);
        expect(checks).toEqual([]);
      });

      it("refuses dangerous schema and table names before any SQL", () => {
        expect(() => createSessions({ store: driver, table: 'x"; drop table y; --' })).toThrow(SessionConfigError);
        expect(() => createSessions({ store: driver, schema: "a b" })).toThrow(/invalid option schema/);
      });

      it("custom table names and the unlogged option", async () => {
        const s = uniqueSchema("unl");
        const custom = createSessions({ store: driver, schema: s, table: "web_sessions", unlogged: true });
        await custom.migrate();
        const [rel] = await target.sql(
          `SELECT c.relpersistence FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = 'web_sessions'`,
          [s],
        );
        expect(rel?.relpersistence).toBe("u");
        const session = await custom.resolve(undefined);
        session.set("k", 1);
        expect(await custom.commit(session)).toMatch(/^session=/);
        await target.sql(`DROP SCHEMA "${s}" CASCADE`);
      });

      it("indexes leave the columns that touches and saves change unindexed (HOT-friendly)", async () => {
        const indexes = await target.sql(`SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = 'sessions'`, [schema]);
        const defs = indexes.map((i) => String(i.indexdef)).join("\n");
        for (const column of ["last_seen_at", "idle_expires_at", "data", "version"]) expect(defs).not.toContain(column);
        expect(defs).toContain("(token_hash)");
      });
    });

    describe("pruning", () => {
      it("prune deletes exactly the expired rows, in bounded batches", async () => {
        const p = make({ schema: uniqueSchema("prune") });
        await p.migrate();
        const live: string[] = [];
        for (let i = 0; i < 25; i++) {
          const s = await p.resolve(undefined);
          s.set("i", i);
          if (i % 5 === 0) await s.login(`user${i}`, { remember: true });
          await p.commit(s);
          if (i % 5 === 0) live.push(s.id);
        }
        clock.advance(DAY + 1);
        const batches: number[] = [];
        const deleted = await p.prune({ batchSize: 7, onProgress: (progress) => batches.push(progress.scanned) });
        expect(deleted).toBe(20);
        expect(batches).toEqual([7, 14, 21, 25]);
        const left = await target.sql(`SELECT id FROM "${p.options.schema}".sessions ORDER BY id`);
        expect(left.map((r) => r.id).sort()).toEqual(live.sort());
        expect(await p.prune()).toBe(0);
        await target.sql(`DROP SCHEMA "${p.options.schema}" CASCADE`);
      });

      it("prune waits `pause` between batches, and refuses a bad batch size or pause", async () => {
        const p = make({ schema: uniqueSchema("prune_pause") });
        await p.migrate();
        for (let i = 0; i < 15; i++) {
          const s = await p.resolve(undefined);
          s.set("i", i);
          await p.commit(s);
        }
        clock.advance(DAY + 1);
        const at: number[] = [];
        const started = performance.now();
        const deleted = await p.prune({ batchSize: 5, pause: "60ms", onProgress: () => at.push(performance.now()) });
        expect(deleted).toBeGreaterThan(0);
        expect(at).toHaveLength(4);
        // A lower bound only: a pause never ends early, however busy the machine.
        for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(55);
        expect(performance.now() - started).toBeGreaterThanOrEqual(3 * 55);
        for (const [options, option] of [
          [{ batchSize: 0 }, "prune.batchSize"],
          [{ batchSize: 1.5 }, "prune.batchSize"],
          [{ batchSize: 100_001 }, "prune.batchSize"],
          [{ pause: "soon" }, "prune.pause"],
          [{ pause: "2m" }, "prune.pause"],
          [{ pause: -1 }, "prune.pause"],
        ] as const) {
          await expect(p.prune(options as never)).rejects.toMatchObject({ code: "ERR_SESSION_CONFIG", option });
        }
        expect(() => p.startPruning({ pause: "2m" })).toThrow(/startPruning\.pause/);
        expect(() => p.startPruning({ batchSize: 0 })).toThrow(/startPruning\.batchSize/);
        await target.sql(`DROP SCHEMA "${p.options.schema}" CASCADE`);
      });

      it("startPruning runs on an unref'd timer and stops", async () => {
        const s = await sessions.resolve(undefined);
        await s.login("short", { idleTimeout: "1m" });
        clock.advance(2 * 60_000);
        const stop = sessions.startPruning({ every: 50 });
        for (let i = 0; i < 100 && (await rows("id = $1", [s.id])).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
        stop();
        expect(await rows("id = $1", [s.id])).toHaveLength(0);
      });
    });
  });
}
