/**
 * Durations in options: milliseconds as a number, or a string such as `"90s"`, `"15m"`,
 * `"24h"`, `"7d"`, `"1h30m"`.
 * @module
 */
import { SessionConfigError } from "../errors.js";

/** A duration: milliseconds, or a string like `"30s"`, `"15m"`, `"24h"`, `"7d"`, `"1h30m"`. */
export type Duration = number | string;

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/y;

/**
 * Parses a duration into whole milliseconds; throws {@link SessionConfigError} naming `option`.
 *
 * @example
 * ```ts
 * parseDuration("1h30m", "idleTimeout"); // 5_400_000
 * ```
 */
export function parseDuration(value: Duration, option: string, { allowZero = false } = {}): number {
  let ms: number;
  if (typeof value === "number") {
    ms = value;
  } else if (typeof value === "string" && value.length > 0 && value.length <= 64) {
    ms = 0;
    PART.lastIndex = 0;
    const text = value.trim();
    while (PART.lastIndex < text.length) {
      const start = PART.lastIndex;
      const match = PART.exec(text);
      if (!match || match.index !== start) {
        throw new SessionConfigError(
          option,
          `"${value}" is not a duration (use a number of milliseconds or e.g. "30s", "15m", "24h", "7d")`,
        );
      }
      ms += Number(match[1]) * (UNIT_MS[match[2] as string] as number);
    }
    if (text.length === 0) throw new SessionConfigError(option, `"${value}" is not a duration`);
  } else {
    throw new SessionConfigError(option, `expected a number of milliseconds or a string like "24h", got ${describe(value)}`);
  }
  // Checked after rounding: 0.4 ms (or "0.4ms") is 0 ms, and must fail exactly as 0 does.
  const rounded = Math.round(ms);
  if (!Number.isFinite(ms) || ms < 0 || (!allowZero && rounded === 0)) {
    throw new SessionConfigError(
      option,
      `must be a ${allowZero ? "non-negative" : "positive"} finite duration of at least 1 ms, got ${describe(value)}`,
    );
  }
  if (rounded > 100 * 365 * UNIT_MS.d!) throw new SessionConfigError(option, `is longer than 100 years`);
  return rounded;
}

function describe(value: unknown): string {
  return typeof value === "string" ? `"${value}"` : String(value);
}
