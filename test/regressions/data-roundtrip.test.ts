/**
 * Issue 36, point 10: `session.set()` refuses, naming the path, any value that would not
 * come back equal from the database, instead of storing something else or failing at
 * commit as a store outage (SQLSTATE 22P02).
 */
import { describe, expect, it } from "vitest";
import { createSessions, SessionDataError } from "../../src/index.js";
import { pgliteStore } from "../../src/store/pglite.js";

describe("session.set refuses values that would not come back equal", async () => {
  const sessions = createSessions({ store: pgliteStore() });
  await sessions.migrate();

  const refused: Array<[string, unknown, RegExp]> = [
    ["a function nested in an object", { a: { f: () => 1 } }, /"k"\."a"\."f" is a function/],
    ["undefined inside an array", [1, undefined, 3], /"k"\[1\] is undefined/],
    ["NaN", { n: Number.NaN }, /"k"\."n" is NaN/],
    ["Infinity in an array", [Number.POSITIVE_INFINITY], /"k"\[0\] is Infinity/],
    ["a BigInt", { big: 10n }, /"k"\."big" is a bigint/],
    [
      "a cycle",
      (() => {
        const o: Record<string, unknown> = {};
        o.self = o;
        return o;
      })(),
      /"k"\."self" refers back/,
    ],
    ["an unpaired surrogate", { s: "x\uD800y" }, /"k"\."s" contains an unpaired UTF-16 surrogate/],
    ["a NUL character", "a\u0000b", /"k" contains a NUL character/],
    ["a Map", { m: new Map([["a", 1]]) }, /"k"\."m" is a Map/],
    ["an invalid Date", { d: new Date(Number.NaN) }, /"k"\."d" becomes null/],
    ["a symbol in an array", [Symbol("s")], /"k"\[0\] is a symbol/],
  ];
  for (const [what, value, message] of refused) {
    it(`refuses ${what}, naming the path, and leaves the session unchanged`, async () => {
      const session = await sessions.resolve(undefined);
      session.set("kept", 1);
      let error: unknown;
      try {
        session.set("k", value as never);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(SessionDataError);
      expect((error as Error).message).toMatch(message);
      expect(session.has("k")).toBe(false);
      expect(session.keys()).toEqual(["kept"]);
    });
  }

  it("stores what JSON keeps exactly: nested data, Dates as ISO strings, absent undefined properties", async () => {
    const session = await sessions.resolve(undefined);
    const when = new Date("2030-01-02T03:04:05.678Z");
    session.set("k", { list: [1, "two", null, { three: true }], when, missing: undefined, "\u00e9": -0.5 });
    const token = /session=([^;]+)/.exec((await sessions.commit(session)) ?? "")?.[1];
    const again = await sessions.resolve(`session=${token}`);
    expect(again.get("k")).toEqual({ list: [1, "two", null, { three: true }], when: when.toISOString(), "\u00e9": -0.5 });
  });
});

describe("duplicate session cookies (issue 36, point 18)", async () => {
  const sessions = createSessions({ store: pgliteStore() });
  await sessions.migrate();

  it("stay refused, and are reported by the duplicateCookie event", async () => {
    const seen: number[] = [];
    sessions.on("duplicateCookie", ({ count }) => {
      seen.push(count);
    });
    const stored = await sessions.resolve(undefined);
    stored.set("n", 1);
    const token = /session=([^;]+)/.exec((await sessions.commit(stored)) ?? "")?.[1];
    const tossed = await sessions.resolve(`session=${token}; session=${"B".repeat(42)}A`);
    expect(tossed.isNew).toBe(true);
    expect(seen).toEqual([2]);
    await sessions.resolve(`session=${token}`);
    await sessions.resolve(undefined);
    expect(seen).toEqual([2]);
  });
});
