import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { defaultRandomBytes, generatePublicId, generateToken, hashToken, isWellFormedToken, TOKEN_LENGTH } from "./token.js";

describe("tokens", () => {
  it("are 32 random bytes in base64url, 43 characters, all different", () => {
    const tokens = new Set(Array.from({ length: 1000 }, () => generateToken()));
    expect(tokens.size).toBe(1000);
    for (const token of tokens) {
      expect(token).toHaveLength(TOKEN_LENGTH);
      expect(Buffer.from(token, "base64url")).toHaveLength(32);
      expect(isWellFormedToken(token)).toBe(true);
    }
  });

  it("draw from a buffered CSPRNG that never hands out the same bytes twice, across refills", () => {
    // 48 bytes per session (token and public id): 10,000 sessions span over a hundred refills.
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      for (const size of [32, 16]) {
        const bytes = defaultRandomBytes(size);
        expect(bytes).toHaveLength(size);
        seen.add(Buffer.from(bytes).toString("hex"));
      }
    }
    expect(seen.size).toBe(20_000);
    // Not all zero (a wiped pool slice handed out by mistake would be).
    expect([...seen].filter((hex) => /^0+$/.test(hex))).toEqual([]);
    // A request larger than the pool is served directly.
    expect(new Set([defaultRandomBytes(10_000), defaultRandomBytes(10_000)].map((b) => Buffer.from(b).toString("hex"))).size).toBe(2);
  });

  it("written straight from the pool, share no bytes with each other or with defaultRandomBytes, across refills", () => {
    // Tokens (32 bytes), public ids (12) and raw draws (16) interleaved: 60 bytes a turn, ~100 refills.
    const seen = new Set<string>();
    for (let i = 0; i < 7_000; i++) {
      const token = Buffer.from(generateToken(), "base64url");
      const id = Buffer.from(generatePublicId().slice(8), "base64url");
      expect([token.length, id.length]).toEqual([32, 12]);
      for (const bytes of [token, id, Buffer.from(defaultRandomBytes(16))]) {
        // Every 8-byte window is new: a slice handed out twice (or overlapping), or a wiped one, repeats.
        for (const at of bytes.length === 12 ? [0, 4] : [0, 8, 16, 24].filter((n) => n < bytes.length)) {
          seen.add(bytes.toString("hex", at, at + 8));
        }
      }
    }
    expect(seen.size).toBe(7_000 * (4 + 2 + 2));
  });

  it("use the injected random source", () => {
    const zeros = () => new Uint8Array(32);
    expect(generateToken(zeros)).toBe("A".repeat(43));
  });

  it("hash to the SHA-256 hex of their UTF-8 text", () => {
    const token = generateToken();
    expect(hashToken(token)).toBe(createHash("sha256").update(token).digest("hex"));
    expect(hashToken(token)).toMatch(/^[0-9a-f]{64}$/);
  });

  it("refuse anything that is not exactly a token we issue", () => {
    const good = generateToken();
    for (const bad of [
      "",
      "abc",
      good + "A",
      good.slice(1),
      good.slice(0, 42) + "=",
      good.slice(0, 42) + "+",
      good.slice(0, 42) + "/",
      good.slice(0, 42) + "B", // non-canonical last character: an alias of another token's bytes
      " ".repeat(43),
      "é".repeat(43),
      "\u0000".repeat(43),
      null,
      undefined,
      42,
      {},
    ]) {
      expect(isWellFormedToken(bad), JSON.stringify(bad)).toBe(false);
    }
  });

  it("public ids are the creation time in sortable characters, then 96 random bits, unrelated to tokens", () => {
    const id = generatePublicId();
    expect(id).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(Buffer.from(id.slice(8), "base64url")).toHaveLength(12);
    expect(isWellFormedToken(id)).toBe(false);
    const ids = new Set(Array.from({ length: 1000 }, () => generatePublicId()));
    expect(ids.size).toBe(1000);
  });

  it("public ids sort by creation time as text in the C collation, and the time reads back", () => {
    const zeros = (size: number) => new Uint8Array(size);
    const times = [0, 1, 63, 64, 4095, 4096, Date.UTC(2026, 11, 3), Date.UTC(2026, 11, 3) + 1, 2 ** 47 - 1];
    const ids = times.map((t) => generatePublicId(zeros, t));
    expect(ids[0]).toBe(`V${"-".repeat(7)}${"A".repeat(16)}`);
    // Ids of this era start with a letter, never with "-" (which tools read as an option).
    expect(generatePublicId(zeros, Date.UTC(2026, 11, 3))[0]).toBe("V");
    const byText = [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    expect(byText).toEqual(ids);
    const digits = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
    const timeOf = (id: string) => [...id.slice(0, 8)].reduce((n, c) => n * 64 + digits.indexOf(c), 0) - 2 ** 47;
    expect(ids.map(timeOf)).toEqual(times);
    // A clock that is not a finite time in range still gives an id of the same shape.
    expect(generatePublicId(zeros, Number.NaN).slice(0, 8)).toBe(ids[0]!.slice(0, 8));
    expect(generatePublicId(zeros, -5).slice(0, 8)).toBe(ids[0]!.slice(0, 8));
    expect(generatePublicId(zeros, 2 ** 60).slice(0, 8)).toBe("z".repeat(8));
    // The random part is the bytes drawn, as they are.
    expect(generatePublicId(() => Uint8Array.from({ length: 12 }, (_, i) => i), 0).slice(8)).toBe(
      Buffer.from(Uint8Array.from({ length: 12 }, (_, i) => i)).toString("base64url"),
    );
  });
});
