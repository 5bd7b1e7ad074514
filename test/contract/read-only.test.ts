/**
 * Read-only resolve (`readOnly: true` in the request context, what `pgsession/next`'s
 * `readSession` uses in Server Components, which cannot set a cookie): the read never
 * touches the row, even when a touch is due, and the session refuses every change. Run on
 * node-postgres and postgres.js on the real server, and on PGlite, each in a schema of its own,
 * with an injected clock.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createSessions, type Sessions } from "../../src/index.js";
import { SessionReadOnlyError } from "../../src/errors.js";
import { hashToken } from "../../src/session/token.js";
import { allTargets, canRun, fakeClock, uniqueSchema, type TestTarget } from "../support/db.js";
import { counting, tokenOf } from "../support/recording.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

for (const kind of allTargets) {
  describe.skipIf(!canRun(kind))(`read-only resolve on ${kind.name}`, () => {
    let target: TestTarget;
    let schema: string;
    let clock: ReturnType<typeof fakeClock>;
    let recorded: ReturnType<typeof counting>;
    let sessions: Sessions<Record<string, unknown>>;

    /** The row's version, touch time and expiry as the database holds them. */
    const row = async (token: string) => {
      const [found] = await target.sql(
        `SELECT xmin::text AS x, last_seen_at, idle_expires_at FROM "${schema}".sessions WHERE token_hash = decode($1, 'hex')`,
        [hashToken(token)],
      );
      return found;
    };

    /** A stored session, its data `{ n: 1 }`, and its cookie header. */
    async function stored() {
      const session = await sessions.resolve(undefined);
      session.set("n", 1);
      const token = tokenOf(await sessions.commit(session));
      return { session, token, cookie: `session=${token}` };
    }

    beforeAll(async () => {
      target = kind.make();
      recorded = counting(await target.open());
      schema = uniqueSchema("readonly");
      clock = fakeClock();
      sessions = createSessions({ store: recorded.driver, schema, now: clock.now });
      await sessions.migrate();
    });

    afterAll(async () => {
      await target?.sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await target?.end();
    });

    beforeEach(() => {
      clock.advance(DAY * 400); // every test starts long after the previous one's sessions expired
    });

    it("reads a session whose touch is due without touching it, in one statement; the next writable read touches it", async () => {
      const { cookie, token, session } = await stored();
      clock.advance(3 * HOUR); // past touchAfter (2.4 h of the default 24 h)
      const before = await row(token);
      recorded.reset();
      const read = await sessions.resolve(cookie, { readOnly: true });
      expect(recorded.names).toEqual(["peek"]);
      expect(read.isNew).toBe(false);
      expect(read.id).toBe(session.id);
      expect(read.get("n")).toBe(1);
      expect(read.lastSeenAt).toEqual(session.lastSeenAt);
      expect(await row(token)).toEqual(before);
      // Read-only reads, however many, never extend the idle timeout.
      await sessions.resolve(cookie, { readOnly: true });
      expect(await row(token)).toEqual(before);

      const writable = await sessions.resolve(cookie);
      expect(writable.lastSeenAt).toEqual(clock.now());
      const after = await row(token);
      expect(after?.x).not.toBe(before?.x);
      expect(new Date(after?.idle_expires_at as Date).getTime()).toBe(clock.now().getTime() + DAY);
    });

    it("lets an idle session expire: read-only reads are not activity", async () => {
      const { cookie } = await stored();
      clock.advance(23 * HOUR);
      expect((await sessions.resolve(cookie, { readOnly: true })).isNew).toBe(false);
      clock.advance(2 * HOUR);
      expect((await sessions.resolve(cookie, { readOnly: true })).isNew).toBe(true);
    });

    it("refuses every change and the commit with SessionReadOnlyError, writing nothing", async () => {
      const { cookie, token } = await stored();
      const before = await row(token);
      const read = await sessions.resolve(cookie, { readOnly: true });
      const refused = (fn: () => unknown, operation: string) => {
        let error: unknown;
        try {
          fn();
        } catch (err) {
          error = err;
        }
        expect(error).toBeInstanceOf(SessionReadOnlyError);
        expect(error).toMatchObject({ code: "ERR_SESSION_READ_ONLY", operation });
      };
      refused(() => read.set("n", 2), "set");
      refused(() => read.delete("n"), "delete");
      refused(() => read.clear(), "clear");
      await expect(read.login("alice")).rejects.toMatchObject({ code: "ERR_SESSION_READ_ONLY", operation: "login" });
      await expect(read.rotate()).rejects.toMatchObject({ code: "ERR_SESSION_READ_ONLY", operation: "rotate" });
      await expect(read.logout()).rejects.toMatchObject({ code: "ERR_SESSION_READ_ONLY", operation: "logout" });
      await expect(sessions.commit(read)).rejects.toMatchObject({ code: "ERR_SESSION_READ_ONLY", operation: "commit" });
      expect(read.get("n")).toBe(1);
      expect(await row(token)).toEqual(before);
      // A new visitor's read-only session is never stored, whatever saveUninitialized says.
      const eager = createSessions({ store: recorded.driver, schema, now: clock.now, saveUninitialized: true });
      const fresh = await eager.resolve(undefined, { readOnly: true });
      await expect(eager.commit(fresh)).rejects.toBeInstanceOf(SessionReadOnlyError);
      expect(await target.sql(`SELECT count(*)::int AS n FROM "${schema}".sessions WHERE id = $1`, [fresh.id])).toEqual([{ n: 0 }]);
    });

    it("answers tokens as the writable read does: unknown is a new session, rotated away within its grace is the session, retired by a login is none", async () => {
      expect((await sessions.resolve(`session=${"A".repeat(43)}`, { readOnly: true })).isNew).toBe(true);
      const { cookie, session } = await stored();
      const rotating = await sessions.resolve(cookie);
      await rotating.rotate();
      const rotated = `session=${tokenOf(await sessions.commit(rotating))}`;
      expect((await sessions.resolve(cookie, { readOnly: true })).id).toBe(session.id);
      expect((await sessions.resolve(rotated, { readOnly: true })).id).toBe(session.id);

      const loggingIn = await sessions.resolve(rotated);
      await loggingIn.login("alice");
      const loggedIn = `session=${tokenOf(await sessions.commit(loggingIn))}`;
      const retired = await sessions.resolve(rotated, { readOnly: true });
      expect(retired.isNew).toBe(true);
      expect(retired.userId).toBeNull();
      const current = await sessions.resolve(loggedIn, { readOnly: true });
      expect(current.userId).toBe("alice");
      expect(current.get("n")).toBe(1);
    });
  });
}
