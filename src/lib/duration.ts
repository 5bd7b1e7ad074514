/**
 * Durations in options: milliseconds as a number, or a string in the syntax of the `ms`
 * package that Express, debug and most of the ecosystem use (`"90 minutes"`, `"2 days"`,
 * `"30d"`, `"1y"`, `"1.5h"`), or several units run together (`"1h30m"`).
 * @module
 */
import ms from "ms";
import { SessionConfigError } from "../errors.js";

/**
 * A duration: milliseconds, or a string such as `"30s"`, `"15m"`, `"24h"`, `"7d"`,
 * `"2 days"`, `"90 minutes"`, `"1y"` (the `ms` package's syntax) or `"1h30m"`.
 */
export type Duration = number | string;

const EXAMPLE = `use a number of milliseconds or e.g. "30s", "15 minutes", "24h", "7d", "2 days", "1y", "1h30m"`;

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

// Units run together ("1h30m"), which `ms` does not read.
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/y;

/** A duration string in milliseconds (not yet rounded or bounded), or null when it is none. */
function parseText(text: string): number | null {
  // A string must name its unit: `ms` reads "3600" as milliseconds, where an environment
  // variable may have meant seconds.
  if (text.length === 0 || /^[-+.\d]+$/.test(text)) return null;
  const single = ms(text as ms.StringValue);
  if (typeof single === "number" && !Number.isNaN(single)) return single;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const start = PART.lastIndex;
    const match = PART.exec(text);
    if (!match || match.index !== start) return null;
    total += Number(match[1]) * UNIT_MS[match[2]!]!;
  }
  return total;
}

/**
 * Parses a duration into whole milliseconds; throws {@link SessionConfigError} naming `option`.
 *
 * @example
 * ```ts
 * parseDuration("1h30m", "idleTimeout"); // 5_400_000
 * parseDuration("2 days", "absoluteTimeout"); // 172_800_000
 * ```
 */
export function parseDuration(value: Duration, option: string, { allowZero = false } = {}): number {
  let total: number;
  if (typeof value === "number") {
    total = value;
  } else if (typeof value === "string" && value.length > 0 && value.length <= 64) {
    const parsed = parseText(value.trim());
    if (parsed === null) throw new SessionConfigError(option, `"${value}" is not a duration (${EXAMPLE})`);
    total = parsed;
  } else {
    throw new SessionConfigError(option, `expected a number of milliseconds or a string like "24h", got ${describe(value)}`);
  }
  // Checked after rounding: 0.4 ms (or "0.4ms") is 0 ms, and must fail exactly as 0 does.
  const rounded = Math.round(total);
  if (!Number.isFinite(total) || total < 0 || (!allowZero && rounded === 0)) {
    throw new SessionConfigError(
      option,
      `must be a ${allowZero ? "non-negative" : "positive"} finite duration of at least 1 ms, got ${describe(value)} (${EXAMPLE})`,
    );
  }
  if (rounded > 100 * 365 * UNIT_MS.d!) throw new SessionConfigError(option, `is longer than 100 years`);
  return rounded;
}

function describe(value: unknown): string {
  return typeof value === "string" ? `"${value}"` : String(value);
}
