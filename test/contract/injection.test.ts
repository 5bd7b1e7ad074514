/**
 * The injected random source (`createSessions({ randomBytes })`) through the session
 * manager, on every database target: the token and the public id are the bytes it gives,
 * the cookie carries that token, and the database holds only the token's SHA-256.
 */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSessions } from "../../src/index.js";
import { generatePublicId } from "../../src/session/token.js";
import { allTargets, hasPostgres, uniqueSchema, type TestTarget } from "../support/db.js";
import { tokenOf } from "../support/suite.js";
import type { StoreDriver } from "../../src/driver.js";

/** A deterministic source: call n (from 1) gives `size` bytes, each `(n * 37 + i) % 256`; records every call. */
function sequencedBytes() {
  const calls: Buffer[] = [];
  const source = (size: number): Uint8Array => {
    const n = calls.length + 1;
    const bytes = Buffer.alloc(size);
    for (let i = 0; i < size; i++) bytes[i] = (n * 37 + i) % 256;
    calls.push(Buffer.from(bytes));
    return new Uint8Array(bytes);
  };
  return { source, calls };
}

const sha256Hex = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

for (const kind of allTargets) {
  describe.skipIf(kind.needsServer && !hasPostgres)(`injected randomBytes [${kind.name}]`, () => {
    let target: TestTarget;
    let driver: StoreDriver;
    const schema = uniqueSchema("inj");
    const table = `"${schema}".sessions`;
    beforeAll(async () => {
      target = kind.make();
      driver = await target.open();
      await createSessions({ store: driver, schema }).migrate();
    });
    afterAll(async () => {
      await target.sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await target.end();
    });

    /** Every row whose text (all columns) contains `token`. */
    const rowsHolding = async (token: string) =>
      target.sql(`SELECT id FROM ${table} t WHERE strpos(row_to_json(t)::text, $1::text) > 0`, [token]);

    it('all-zero bytes give the token "A" x 43, which the cookie carries and the database holds only as sha256', async () => {
      const sessions = createSessions({ store: driver, schema, randomBytes: (size) => new Uint8Array(size) });
      const session = await sessions.resolve(undefined);
      expect(session.id).toMatch(/^[A-Za-z0-9_-]{8}A{16}$/); // the creation time, then 12 zero bytes in base64url
      session.set("k", "v");
      const setCookie = await sessions.commit(session);
      const token = tokenOf(setCookie);
      expect(token).toBe("A".repeat(43));

      const rows = await target.sql(
        `SELECT id, encode(token_hash, 'hex') AS hash, encode(sha256(convert_to($1::text, 'UTF8')), 'hex') AS expected FROM ${table} WHERE id = $2::text`,
        [token, session.id],
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]!.hash).toBe(sha256Hex(token));
      expect(rows[0]!.hash).toBe(rows[0]!.expected); // the database's own sha256 of the token
      expect(await rowsHolding(token)).toEqual([]);
      expect((await sessions.resolve(`session=${token}`)).get("k")).toBe("v");
    });

    it("a new session's public id starts with its creation time by the injected clock, so ids sort by creation", async () => {
      let at = Date.UTC(2026, 11, 3, 12, 0, 0);
      const sessions = createSessions({ store: driver, schema, now: () => new Date(at) });
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const session = await sessions.resolve(undefined);
        expect(session.id.slice(0, 8)).toBe(generatePublicId(undefined, at).slice(0, 8));
        session.set("i", i);
        await sessions.commit(session);
        ids.push(session.id);
        at += 1000;
      }
      const stored = await target.sql(`SELECT id FROM ${table} WHERE id = ANY($1::text[]) ORDER BY id COLLATE "C"`, [ids]);
      expect(stored.map((row) => row.id)).toEqual(ids);
    });

    it("an anonymous request draws no random bytes; a stored session's token and public id are the bytes drawn, in order, and a login's new token is the next draw", async () => {
      const { source, calls } = sequencedBytes();
      const sessions = createSessions({ store: driver, schema, randomBytes: source });
      const session = await sessions.resolve(undefined);
      expect(calls).toEqual([]);
      session.set("n", 1);
      const setCookie = await sessions.commit(session);
      expect(calls.map((c) => c.length)).toEqual([32, 12]);
      const token = calls[0]!.toString("base64url");
      expect(token).toHaveLength(43);
      expect(session.id.slice(8)).toBe(calls[1]!.toString("base64url"));
      expect(tokenOf(setCookie)).toBe(token);

      const stored = await target.sql(`SELECT encode(token_hash, 'hex') AS hash FROM ${table} WHERE id = $1::text`, [session.id]);
      expect(stored).toEqual([{ hash: sha256Hex(token) }]);
      expect(await rowsHolding(token)).toEqual([]);

      const again = await sessions.resolve(`session=${token}`);
      expect(again.id).toBe(session.id);
      await again.login("user-1");
      expect(calls).toHaveLength(3);
      const loginToken = calls[2]!.toString("base64url");
      expect(tokenOf(await sessions.commit(again))).toBe(loginToken);
      const after = await target.sql(`SELECT encode(token_hash, 'hex') AS hash, user_id FROM ${table} WHERE id = $1::text`, [session.id]);
      expect(after).toEqual([{ hash: sha256Hex(loginToken), user_id: "user-1" }]);
      expect(await rowsHolding(loginToken)).toEqual([]);
      expect(await rowsHolding(token)).toEqual([]);
    });
  });
}
