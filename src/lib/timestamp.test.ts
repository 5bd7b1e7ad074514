import { describe, expect, it } from "vitest";
import { parseTimestamptz } from "./timestamp.js";

/** PostgreSQL's JSON text of an instant at a given offset (minutes east, optionally with seconds). */
function pgText(ms: number, offsetSeconds: number, fractionDigits: number): string {
  const local = new Date(ms + offsetSeconds * 1000);
  const iso = local.toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const micro = String(local.getUTCMilliseconds() * 1000 + Math.abs(ms % 7) * 111)
    .padStart(6, "0")
    .slice(0, fractionDigits)
    .replace(/0+$/, "");
  const sign = offsetSeconds < 0 ? "-" : "+";
  const abs = Math.abs(offsetSeconds);
  const hh = String(Math.floor(abs / 3600)).padStart(2, "0");
  const mm = String(Math.floor((abs % 3600) / 60)).padStart(2, "0");
  const ss = abs % 60;
  const offset = `${sign}${hh}:${mm}${ss ? `:${String(ss).padStart(2, "0")}` : ""}`;
  return `${iso.slice(0, 19)}${micro ? `.${micro}` : ""}${offset}`;
}

describe("parseTimestamptz", () => {
  it("reads PostgreSQL's shapes to the same instant as Date, truncated to the millisecond", () => {
    const offsets = [0, 19_800, 20_700, -12_600, -36_000, 50_400, -43_200, 3600];
    let checked = 0;
    let seed = 20261207;
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
    for (let i = 0; i < 4000; i++) {
      // From 1900 to 2200 (a fixed pseudo-random series), and the last instants of months.
      const ms =
        i % 10 === 0 ? Date.UTC(1900 + (i % 300), i % 12, 1) - 1 - (i % 3) : -2_200_000_000_000 + Math.floor(next() * 9_500_000_000_000);
      const text = pgText(ms, offsets[i % offsets.length]!, i % 7);
      expect(parseTimestamptz(text).getTime(), text).toBe(new Date(text).getTime());
      checked++;
    }
    expect(checked).toBe(4000);
  });

  it("reads examples as PostgreSQL prints them", () => {
    expect(parseTimestamptz("2026-12-07T08:53:07.965353+05:30").toISOString()).toBe("2026-12-07T03:23:07.965Z");
    expect(parseTimestamptz("2024-02-29T23:59:59.9999-03:30").toISOString()).toBe("2024-03-01T03:29:59.999Z");
    expect(parseTimestamptz("2026-01-01T00:00:00+00:00").toISOString()).toBe("2026-01-01T00:00:00.000Z");
    expect(parseTimestamptz("2026-01-01T00:00:00.5+14").toISOString()).toBe("2025-12-31T10:00:00.500Z");
    expect(parseTimestamptz("1970-01-01T00:00:00+00:00").getTime()).toBe(0);
  });

  it("reads offsets with seconds, which Date refuses", () => {
    // Asia/Kolkata before 1900 (local mean time).
    expect(Number.isNaN(new Date("1890-01-01T00:00:00+05:21:10").getTime())).toBe(true);
    expect(parseTimestamptz("1890-01-01T00:00:00+05:21:10").toISOString()).toBe("1889-12-31T18:38:50.000Z");
    expect(parseTimestamptz("1890-01-01T00:00:00-00:01:15").toISOString()).toBe("1890-01-01T00:01:15.000Z");
  });

  it("leaves every other text to Date: far years, BC, infinity", () => {
    for (const text of ["10000-01-01T00:00:00+00:00", "infinity", "-infinity", "0001-01-01T00:00:00+00:00 BC"]) {
      // As before this fast path: whatever Date makes of them (Invalid Date for all four today).
      expect(parseTimestamptz(text).getTime(), text).toBe(new Date(text).getTime());
    }
  });

  it("does not take a malformed text for a date", () => {
    for (const bad of [
      "2026-02-30T00:00:00+00:00",
      "2025-02-29T00:00:00+00:00",
      "2026-13-01T00:00:00+00:00",
      "2026-12-07T24:00:00+00:00",
      "2026-12-07T03:60:00+00:00",
      "2026-12-07T03:22:29.+00:00",
      "2026-12-07T03:22:29+0530",
      "2026-12-07T03:22:29+05:30x",
      "2026-12-07 03:22:29+00:00",
      "2026-1a-07T03:22:29+00:00",
      "2026-12-07T03:22:29Z+00:00",
      "",
    ]) {
      const parsed = parseTimestamptz(bad).getTime();
      const byDate = new Date(bad).getTime();
      // Either both refuse it, or Date reads it its own (lenient) way: never a different instant from the fast path.
      expect(Number.isNaN(parsed) ? Number.isNaN(byDate) : parsed === byDate, bad).toBe(true);
    }
  });
});
