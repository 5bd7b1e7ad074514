import { describe, expect, it } from "vitest";
import { formatDuration, formatRelative } from "./format.js";

const now = new Date("2025-06-01T12:00:00Z");
const at = (ms: number) => new Date(now.getTime() + ms);
const DAY = 86_400_000;

describe("formatRelative", () => {
  it.each([
    [90 * DAY, "in 90 days"],
    // What a page rendered a moment after the session was stored sees: still 90 days.
    [90 * DAY - 1500, "in 90 days"],
    [30 * DAY - 1, "in 30 days"],
    [DAY - 1000, "in 1 day"],
    [23 * 3_600_000, "in 23 hours"],
    [59.6 * 60_000, "in 1 hour"],
    [-3 * 60_000, "3 minutes ago"],
    [-45_000, "45 seconds ago"],
    [-59_700, "1 minute ago"],
    [-2_000, "just now"],
    [400 * DAY, "in 400 days"],
  ])("%d ms from now is %j", (ms, text) => {
    expect(formatRelative(at(ms), now)).toBe(text);
  });
});

describe("formatDuration", () => {
  it("rounds to the nearest unit instead of truncating", () => {
    expect(formatDuration(7_775_999_600)).toBe("90 days");
    expect(formatDuration(60_000)).toBe("1 minute");
    expect(formatDuration(90_000)).toBe("2 minutes");
    expect(formatDuration(5_000)).toBe("5 seconds");
  });
});
