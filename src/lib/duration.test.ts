import { describe, expect, it } from "vitest";
import { parseDuration } from "./duration.js";
import { SessionConfigError } from "../errors.js";

describe("parseDuration", () => {
  it.each([
    [1500, 1500],
    ["250ms", 250],
    ["90s", 90_000],
    ["15m", 900_000],
    ["24h", 86_400_000],
    ["7d", 604_800_000],
    ["2w", 1_209_600_000],
    ["1h30m", 5_400_000],
    ["1.5h", 5_400_000],
    [" 10s ", 10_000],
    // The ms package's syntax, as Express and most of the ecosystem write durations.
    ["2 days", 172_800_000],
    ["90 minutes", 5_400_000],
    ["1 hour", 3_600_000],
    ["10 s", 10_000],
    ["30d", 2_592_000_000],
    ["1y", 31_557_600_000],
    ["5y", 157_788_000_000],
  ])("%s -> %d ms", (input, ms) => {
    expect(parseDuration(input, "x")).toBe(ms);
  });

  it.each(["", "soon", "10", "3600", "-5m", "-1 day", "1h-30m", "m", "NaN", "Infinityd", "2 fortnights"])(
    "refuses %j naming the option",
    (input) => {
      const error = (() => {
        try {
          parseDuration(input, "idleTimeout");
        } catch (err) {
          return err;
        }
      })();
      expect(error).toBeInstanceOf(SessionConfigError);
      expect((error as SessionConfigError).option).toBe("idleTimeout");
      expect((error as SessionConfigError).code).toBe("ERR_SESSION_CONFIG");
      if (input !== "") expect((error as SessionConfigError).message).toContain('"2 days"'); // an accepted example
    },
  );

  it("refuses zero, negatives, non-finite and absurd numbers", () => {
    for (const value of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 1e15]) {
      expect(() => parseDuration(value, "x")).toThrow(SessionConfigError);
    }
    expect(parseDuration(0, "staleTtl", { allowZero: true })).toBe(0);
  });

  it("refuses a duration that rounds to 0 ms, as it refuses 0 (regression: 0.4 passed as positive and returned 0)", () => {
    for (const value of [0.4, 0.0001, "0.4ms", "0.0001s"]) {
      const error = (() => {
        try {
          return parseDuration(value, "idleTimeout");
        } catch (err) {
          return err;
        }
      })();
      expect(error).toBeInstanceOf(SessionConfigError);
      expect((error as SessionConfigError).option).toBe("idleTimeout");
    }
    expect(parseDuration(0.5, "x")).toBe(1);
    expect(parseDuration("0.5ms", "x")).toBe(1);
    expect(parseDuration(0.4, "staleTtl", { allowZero: true })).toBe(0);
  });

  it("refuses non-string, non-number values", () => {
    expect(() => parseDuration(null as never, "x")).toThrow(/expected a number/);
    expect(() => parseDuration({} as never, "x")).toThrow(SessionConfigError);
  });
});
