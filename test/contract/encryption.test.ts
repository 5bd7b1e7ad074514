/**
 * Encryption at rest (issue 4): the table holds neither tokens nor data values, server
 * keys rotate by id, a wrong key or tampered ciphertext is "no session" with a warning,
 * and concurrent encrypted saves keep each other's changes.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { SessionCipher } from "../../src/session/encryption.js";
import { SessionConfigError, SessionConflictError } from "../../src/errors.js";
import { hashToken } from "../../src/session/token.js";
import { DATABASE_URL } from "../support/db.js";
import { describeEachTarget, tokenOf } from "../support/suite.js";

/** pg_dump of one table's data, or null when pg_dump is not installed. */
function pgDump(schema: string): string | null {
  try {
    return execFileSync("pg_dump", ["--data-only", "--table", `"${schema}".sessions`, DATABASE_URL], { encoding: "utf8" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

const k1 = { id: "k1", key: randomBytes(32) };
const k2 = { id: "k2", key: randomBytes(32).toString("base64url") };

describeEachTarget("encryption at rest", (ctx) => {
  const warnings: string[] = [];
  const encrypted = (keys: Array<typeof k1 | typeof k2>, extra = {}) =>
    ctx().sessions({ encrypt: { keys, onWarning: (message) => warnings.push(message) }, ...extra });
  const dump = async () => {
    const { schema, target } = ctx();
    const rows = await target.sql(`SELECT s::text AS row FROM "${schema}".sessions s`);
    return rows.map((r) => r.row as string).join("\n");
  };

  it("stores neither the token nor any data value, and reads them back", async () => {
    const sessions = encrypted([k1]);
    const session = await sessions.resolve(undefined, { ip: "192.0.2.1" });
    session.set("secretNote", "plaintext-marker-7f3a");
    session.set("card", { number: "4111111111111111" });
    await session.login("erin");
    const token = tokenOf(await sessions.commit(session));
    // The rows as text on every target, and a real pg_dump on the server when it is installed.
    const dumped = ctx().target.needsServer ? pgDump(ctx().schema) : null;
    if (dumped !== null) expect(dumped).toContain(session.id);
    const text = (await dump()) + (dumped ?? "");
    for (const needle of [
      token,
      Buffer.from(token).toString("hex"),
      Buffer.from(token).toString("base64"),
      "plaintext-marker-7f3a",
      "4111111111111111",
      "secretNote",
      k1.key.toString("hex"),
    ]) {
      expect(text).not.toContain(needle);
    }
    expect(text).toContain("erin"); // user_id stays clear for listing
    expect(text).toContain(hashToken(token).slice(0, 16)); // only the hash (bytea hex) is there
    const again = await sessions.resolve(`session=${token}`);
    expect(again.isNew).toBe(false);
    expect(again.get("secretNote")).toBe("plaintext-marker-7f3a");
    expect(again.get("card")).toEqual({ number: "4111111111111111" });
    expect((await sessions.listUserSessions("erin")).map((s) => s.id)).toContain(session.id);
  });

  it("keeps old sessions readable when a new server key is added first", async () => {
    const before = encrypted([k1]);
    const session = await before.resolve(undefined);
    session.set("n", 1);
    const token = tokenOf(await before.commit(session));

    const rotatedKeys = encrypted([k2, k1]);
    const read = await rotatedKeys.resolveToken(token);
    expect(read.get("n")).toBe(1);
    read.set("n", 2);
    await rotatedKeys.commit(read);
    await read.rotate(); // re-wraps the data key under the new token with k2
    const newToken = tokenOf(await rotatedKeys.commit(read));

    // Once re-wrapped, k1 can be retired.
    const onlyNew = encrypted([k2]);
    expect((await onlyNew.resolveToken(newToken)).get("n")).toBe(2);
  });

  it("treats a wrong key or a tampered ciphertext as no session, with a warning", async () => {
    const { schema, target } = ctx();
    const sessions = encrypted([k1]);
    const session = await sessions.resolve(undefined);
    session.set("v", "x");
    const token = tokenOf(await sessions.commit(session));

    warnings.length = 0;
    const wrongKey = encrypted([{ id: "k1", key: randomBytes(32) }]);
    const fromWrong = await wrongKey.resolveToken(token);
    expect(fromWrong.isNew).toBe(true);
    expect(fromWrong.id).not.toBe(session.id);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).not.toContain(token);

    const unknownId = encrypted([k2]);
    expect((await unknownId.resolveToken(token)).isNew).toBe(true);
    expect(warnings).toHaveLength(2);

    // Flip one character of the sealed data in the database.
    const [row] = await target.sql(`SELECT data->>'$sealed' AS sealed FROM "${schema}".sessions WHERE id = $1`, [session.id]);
    const sealed = row?.sealed as string;
    const flipped = sealed.slice(0, 20) + (sealed[20] === "A" ? "B" : "A") + sealed.slice(21);
    await target.sql(`UPDATE "${schema}".sessions SET data = jsonb_set(data, '{$sealed}', to_jsonb($2::text)) WHERE id = $1`, [
      session.id,
      flipped,
    ]);
    expect((await sessions.resolveToken(token)).isNew).toBe(true);
    expect(warnings).toHaveLength(3);

    // Plaintext data slipped into an encrypted table is refused too.
    await target.sql(`UPDATE "${schema}".sessions SET data = '{"admin": true}' WHERE id = $1`, [session.id]);
    expect((await sessions.resolveToken(token)).isNew).toBe(true);
    expect(warnings).toHaveLength(4);
  });

  it("binds sealed data to its session: a blob copied from another row does not open", async () => {
    const { schema, target } = ctx();
    const sessions = encrypted([k1]);
    const [a, b] = [await sessions.resolve(undefined), await sessions.resolve(undefined)];
    a.set("role", "admin");
    b.set("role", "guest");
    const tokenA = tokenOf(await sessions.commit(a));
    const tokenB = tokenOf(await sessions.commit(b));
    warnings.length = 0;
    await target.sql(
      `UPDATE "${schema}".sessions SET data = jsonb_set(data, '{$sealed}',
      (SELECT data->'$sealed' FROM "${schema}".sessions WHERE id = $1)) WHERE id = $2`,
      [a.id, b.id],
    );
    expect((await sessions.resolveToken(tokenB)).isNew).toBe(true);
    await target.sql(`UPDATE "${schema}".sessions SET data = (SELECT data FROM "${schema}".sessions WHERE id = $1) WHERE id = $2`, [
      a.id,
      b.id,
    ]);
    expect((await sessions.resolveToken(tokenB)).isNew).toBe(true);
    expect(warnings).toHaveLength(2);
    expect((await sessions.resolveToken(tokenA)).get("role")).toBe("admin");
  });

  it("never loses concurrent writes: compare-and-set, re-read, retry", async () => {
    const sessions = encrypted([k1]);
    const session = await sessions.resolve(undefined);
    session.set("base", 0);
    const token = tokenOf(await sessions.commit(session));
    const requests = await Promise.all(Array.from({ length: 6 }, () => sessions.resolveToken(token)));
    requests.forEach((request, i) => request.set(`k${i}`, i));
    requests[0]?.delete("base");
    await Promise.all(requests.map((request) => sessions.commit(request)));
    const final = await sessions.resolveToken(token);
    expect(final.toJSON()).toEqual({ k0: 0, k1: 1, k2: 2, k3: 3, k4: 4, k5: 5 });
    expect(final.version).toBe(session.version + 6);

    // A strict compare-and-set still refuses a stale version.
    const a = await sessions.resolveToken(token);
    const b = await sessions.resolveToken(token);
    a.set("x", 1);
    b.set("y", 2);
    await sessions.commit(a);
    await expect(sessions.commit(b, { compareAndSet: true })).rejects.toBeInstanceOf(SessionConflictError);
  });

  it("lets the previous token read the data during the rotation grace window", async () => {
    const sessions = encrypted([k1]);
    const session = await sessions.resolve(undefined);
    session.set("cart", ["a"]);
    const oldToken = tokenOf(await sessions.commit(session));
    const inFlight = await sessions.resolveToken(oldToken);
    await session.rotate();
    const newToken = tokenOf(await sessions.commit(session));
    expect((await sessions.resolveToken(oldToken)).get("cart")).toEqual(["a"]);
    inFlight.set("late", true); // an in-flight request writes with the old token
    await sessions.commit(inFlight);
    const current = await sessions.resolveToken(newToken);
    expect(current.toJSON()).toEqual({ cart: ["a"], late: true });
    // A login retires the token at once: it no longer opens the data.
    await current.login("frank");
    const loggedIn = tokenOf(await sessions.commit(current));
    const retired = await sessions.resolveToken(newToken);
    expect(retired.isNew).toBe(true);
    expect(retired.toJSON()).toEqual({});
    expect((await sessions.resolveToken(loggedIn)).toJSON()).toEqual({ cart: ["a"], late: true });
  });

  it("seals the low-level token store too", async () => {
    const sessions = encrypted([k1]);
    const token = await sessions.store.create({ data: { note: "store-marker-55e" }, ttl: "1h" });
    expect(await dump()).not.toContain("store-marker-55e");
    expect((await sessions.store.get(token))?.data).toEqual({ note: "store-marker-55e" });
    expect((await sessions.resolveToken(token)).get("note")).toBe("store-marker-55e");
    await sessions.store.set(token, { note: "store-marker-66f" });
    expect(await dump()).not.toContain("store-marker-66f");
    expect((await sessions.store.get(token))?.data).toEqual({ note: "store-marker-66f" });
    warnings.length = 0;
    expect(await encrypted([k2]).store.get(token)).toBeNull();
    expect(warnings).toHaveLength(1);
  });

  it("adopts sessions created in SQL (empty) and seals their first data", async () => {
    const { schema, target } = ctx();
    const [row] = await target.sql(`SELECT "${schema}".session_handler(NULL) AS token`);
    const token = row?.token as string;
    const sessions = encrypted([k1]);
    const session = await sessions.resolveToken(token);
    expect(session.isNew).toBe(false);
    session.set("fromSql", "sealed-value-91c");
    await sessions.commit(session);
    expect(await dump()).not.toContain("sealed-value-91c");
    expect((await sessions.resolveToken(token)).get("fromSql")).toBe("sealed-value-91c");
    await session.login("gina");
    const rotated = tokenOf(await sessions.commit(session));
    expect((await sessions.resolveToken(rotated)).get("fromSql")).toBe("sealed-value-91c");
  });
});

describe("express-session store and encryption", () => {
  it("PgSessionStore refuses an encrypted session manager instead of writing plaintext", async () => {
    const { PgSessionStore } = await import("../../src/adapters/express-store.js");
    const { createSessions } = await import("../../src/index.js");
    const { pgliteStore } = await import("../../src/store/pglite.js");
    const sessions = createSessions({ store: pgliteStore(), encrypt: { keys: [k1] } });
    const store = new PgSessionStore({ sessions, pruneSessionInterval: false });
    await expect(store.sessions()).rejects.toBeInstanceOf(SessionConfigError);
    await sessions.close();
  });
});

describe("encrypt option validation", () => {
  it("refuses short keys, bad ids and duplicates at start-up", () => {
    expect(() => new SessionCipher({ keys: [] })).toThrow(SessionConfigError);
    expect(() => new SessionCipher({ keys: [{ id: "k", key: randomBytes(16) }] })).toThrow(/at least 32 bytes/);
    expect(() => new SessionCipher({ keys: [{ id: "bad id", key: randomBytes(32) }] })).toThrow(/encrypt\.keys\[0\]\.id/);
    expect(() => new SessionCipher({ keys: [k1, { ...k1 }] })).toThrow(/twice/);
  });
});
