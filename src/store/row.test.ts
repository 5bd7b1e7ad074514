import { describe, expect, it } from "vitest";
import { packedRow, recordOf } from "./row.js";

describe("the packed session row", () => {
  it("is one json_build_array of the row's fields, with the statement's own current and touch", () => {
    const sql = packedRow({ current: "CURRENT", touch: "TOUCH" });
    expect(sql).toBe(
      "json_build_array(s.id, s.user_id, s.audience, s.version, s.remember, s.created_at, s.last_seen_at, " +
        "s.authenticated_at, s.updated_at, s.token_issued_at, s.idle_expires_at, s.absolute_expires_at, CURRENT, TOUCH, s.data)::text AS r",
    );
  });

  it("decodes by position into a session record", () => {
    const text = JSON.stringify([
      "id1",
      "alice",
      "shop",
      3,
      true,
      "2026-01-02T03:04:05.678901+00:00",
      "2026-01-02T04:00:00+01:00",
      "2026-01-02T03:04:06+00:00",
      "2026-01-02T03:30:00+00:00",
      "2026-01-02T03:20:00+00:00",
      "2026-01-03T03:04:05+00:00",
      "2026-01-09T03:04:05+00:00",
      false,
      null,
      { a: 1 },
    ]);
    expect(recordOf({ r: text })).toEqual({
      id: "id1",
      userId: "alice",
      audience: "shop",
      version: 3,
      remember: true,
      createdAt: new Date("2026-01-02T03:04:05.678Z"),
      lastSeenAt: new Date("2026-01-02T03:00:00Z"),
      authenticatedAt: new Date("2026-01-02T03:04:06Z"),
      updatedAt: new Date("2026-01-02T03:30:00Z"),
      tokenIssuedAt: new Date("2026-01-02T03:20:00Z"),
      expiresAt: new Date("2026-01-03T03:04:05Z"),
      absoluteExpiresAt: new Date("2026-01-09T03:04:05Z"),
      current: false,
      touched: false,
      data: { a: 1 },
      dataLength: text.length,
    });
  });

  it("a touch replaces the times it wrote, rounded to the millisecond; a null user's login time stays null", () => {
    const text = JSON.stringify([
      "id1",
      null,
      null,
      1,
      false,
      "2026-01-02T03:04:05+00:00",
      "2026-01-02T03:04:05+00:00",
      null,
      "2026-01-02T03:04:05+00:00",
      "2026-01-02T03:04:05+00:00",
      "2026-01-03T03:04:05+00:00",
      "2026-01-09T03:04:05+00:00",
      true,
      [1767500000000.4, 1767586400000.6],
      {},
    ]);
    const record = recordOf({ r: text });
    expect(record).toMatchObject({ userId: null, authenticatedAt: null, current: true, touched: true, data: {} });
    expect(record.lastSeenAt.getTime()).toBe(1767500000000);
    expect(record.expiresAt.getTime()).toBe(1767586400001);
  });
});
