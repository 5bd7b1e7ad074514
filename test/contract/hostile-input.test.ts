/**
 * Hostile input: property-based tests of the cookie parser and of `resolve` over arbitrary
 * Cookie headers. Whatever arrives, pgsession never throws, never sends SQL anything but
 * the hash of a well-formed token, and never hands out a session whose exact token the
 * request did not carry.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readCookie, MAX_COOKIE_HEADER } from "../../src/session/cookie.js";
import { SessionDataError } from "../../src/errors.js";
import { createSessions, type Sessions } from "../../src/index.js";
import { hashToken } from "../../src/session/token.js";
import type { StoreDriver } from "../../src/driver.js";
import { allTargets, hasPostgres, uniqueSchema, type TestTarget } from "../support/db.js";

const tokenChar = fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
/** Strings with anything in them: separators, quotes, %, NUL, lone surrogates, non-ASCII. */
const anything = fc.oneof(
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.stringMatching(/^[=; "%\\,\t\u0000A-Za-z0-9_-]{0,120}$/),
  fc.constantFrom("session", "session=", "=", ";", '"', "%00", "\u0000", "\ud800", "\udfff", 'session="x"'),
);

describe("readCookie over arbitrary headers", () => {
  it("never throws, and returns null or a piece of the header", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          anything,
          fc.array(anything, { maxLength: 5 }).map((parts) => parts.join("; ")),
        ),
        fc.constantFrom("session", "__Host-s", "a"),
        (header, name) => {
          const value = readCookie(header, name);
          expect(value === null || header.includes(value)).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("ignores a 100 KB header instead of scanning it for a session", () => {
    const huge = `session=${"A".repeat(42)}E; ` + "x=".padEnd(100_000, "y");
    expect(huge.length).toBeGreaterThan(MAX_COOKIE_HEADER);
    expect(readCookie(huge, "session")).toBeNull();
  });
});

for (const kind of allTargets) {
  describe.skipIf(kind.needsServer && !hasPostgres)(`resolve over hostile headers on ${kind.name}`, () => {
    let target: TestTarget;
    let sessions: Sessions;
    const schema = uniqueSchema("hostile");
    const sent: unknown[][] = [];
    // The token hash a statement was sent (its one bytes parameter), as hex; "" when there is none.
    const hexOf = (call: unknown[]) => {
      const param = call.find((value) => value instanceof Uint8Array);
      return param instanceof Uint8Array && param.length === 32 ? Buffer.from(param).toString("hex") : "";
    };
    const tokens: string[] = [];

    beforeAll(async () => {
      target = kind.make();
      const real = await target.open();
      const spy: StoreDriver = {
        ...real,
        query: (statement, params) => (sent.push([statement.name, ...params]), real.query(statement, params)),
      };
      sessions = createSessions({ store: spy, schema });
      await sessions.migrate();
      for (let owner = 0; owner < 5; owner++) {
        const s = await sessions.resolve(undefined);
        s.set("owner", owner);
        tokens.push(/^session=([^;]+)/.exec((await sessions.commit(s)) as string)?.[1] as string);
      }
    });

    afterAll(async () => {
      await target?.sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await target?.end();
    });

    /** A real token, maybe damaged: one character changed, cut, extended, quoted, percent-encoded or upper-cased. */
    const damagedToken = fc.tuple(fc.nat({ max: 4 }), fc.nat({ max: 42 }), tokenChar, fc.nat({ max: 6 })).map(([i, at, char, how]) => {
      const token = tokens[i] as string;
      const damaged = [
        token.slice(0, at) + (token[at] === char ? (char === "A" ? "B" : "A") : char) + token.slice(at + 1),
        token.slice(0, at),
        token + char,
        `"${token}"`,
        encodeURIComponent(token).replace(/[A-Za-z]/, (c) => `%${c.charCodeAt(0).toString(16)}`),
        token.toUpperCase() === token ? token.toLowerCase() : token.toUpperCase(),
        `${token}\u0000`,
      ][how] as string;
      return { value: damaged, owner: damaged === token ? i : null };
    });
    const exactToken = fc.nat({ max: 4 }).map((i) => ({ value: tokens[i] as string, owner: i as number | null }));

    it("never throws, never queries with a malformed token, never returns someone else's session", async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(anything, { maxLength: 3 }),
          fc.oneof(damagedToken, exactToken),
          fc.array(anything, { maxLength: 3 }),
          fc.boolean(),
          fc.boolean(),
          async (before, token, after, duplicate, spaces) => {
            const pair = `session=${spaces ? ` ${token.value} ` : token.value}`;
            const header = [...before, pair, ...(duplicate ? [pair] : []), ...after].join("; ");
            sent.length = 0;
            const session = await sessions.resolve(header);
            for (const call of sent) expect(hexOf(call)).toMatch(/^[0-9a-f]{64}$/); // only hashes (32 bytes) reach SQL
            if (!session.isNew) {
              // Only the exact, undamaged token of that very session, sent once, resolves it.
              const owner = session.get("owner") as number;
              expect(token.owner).toBe(owner);
              expect(header).toContain(tokens[owner]);
              expect(duplicate).toBe(false);
            }
          },
        ),
        { numRuns: 300 },
      );
    });

    it("looks a forged token up by its SHA-256 only: one that differs from a live token in its last character is an unrelated hash", async () => {
      // The B-tree compares hashes, so how much of a forged token matches a real one cannot
      // steer the comparison (no timing signal about the real token).
      const canonicalLast = "AEIMQUYcgkosw048";
      for (const token of tokens) {
        for (const last of canonicalLast) {
          if (last === token[42]) continue;
          const forged = token.slice(0, 42) + last;
          sent.length = 0;
          expect((await sessions.resolve(`session=${forged}`)).isNew).toBe(true);
          expect(sent.length).toBeGreaterThan(0);
          for (const call of sent) {
            expect(call).not.toContain(forged);
            expect(hexOf(call)).toBe(hashToken(forged));
            let common = 0;
            while (common < 64 && hashToken(forged)[common] === hashToken(token)[common]) common++;
            expect(common).toBeLessThan(8); // 8 equal hex digits by chance: 1 in 4 billion
          }
        }
      }
    });

    it("stores nested data and reads it back; data nested past what JSON can serialize is a clear SessionDataError", async () => {
      const nest = (depth: number): unknown => {
        let value: unknown = "leaf";
        for (let i = 0; i < depth; i++) value = { d: value };
        return value;
      };
      const s = await sessions.resolve(undefined);
      s.set("deep", nest(200));
      const token = /^session=([^;]+)/.exec((await sessions.commit(s)) as string)?.[1] as string;
      expect((await sessions.resolveToken(token)).get("deep")).toEqual(nest(200));
      expect(() => s.set("deeper", nest(100_000))).toThrow(SessionDataError);
    });

    it("sends no query at all for headers without a well-formed token", async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(anything, { maxLength: 6 }), async (parts) => {
          sent.length = 0;
          const session = await sessions.resolve(parts.join("; "));
          expect(session.isNew).toBe(true);
          expect(sent).toEqual([]);
        }),
        { numRuns: 500 },
      );
    });
  });
}
