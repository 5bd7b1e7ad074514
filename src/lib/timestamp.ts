/**
 * Reading PostgreSQL's JSON text of a `timestamptz`, as the packed session row carries it.
 * @module
 */

const ZERO = 48;
const MS_PER_DAY = 86_400_000;

/**
 * The instant a PostgreSQL `timestamptz` denotes, from the text `to_json` and
 * `json_build_array` give it: `YYYY-MM-DDTHH:MM:SS[.ffffff]±HH:MM[:SS]` (ISO 8601 with the
 * session's offset, whatever the DateStyle), truncated to the millisecond as `Date` keeps
 * it. Any other text (years past 9999, BC dates, `infinity`) goes to `new Date`.
 *
 * Why not `new Date(text)` alone: V8's general date parser tokenizes every string, and
 * every session read carries five times (the measurement is in docs/performance.md). It also refuses offsets with seconds (`+05:21:10`, local mean
 * times before about 1900), which PostgreSQL prints for such zones; this reads them.
 *
 * @example
 * ```ts
 * parseTimestamptz("2026-12-07T08:53:07.965353+05:30").toISOString(); // "2026-12-07T03:23:07.965Z"
 * ```
 */
export function parseTimestamptz(text: string): Date {
  const ms = fastEpochMs(text);
  return new Date(Number.isNaN(ms) ? Date.parse(text) : ms);
}

/** Epoch milliseconds of text in exactly PostgreSQL's shape, NaN for anything else. */
function fastEpochMs(s: string): number {
  const n = s.length;
  // The shortest: "YYYY-MM-DDTHH:MM:SS+HH" (22 characters).
  if (
    n < 22 ||
    s.charCodeAt(4) !== 45 ||
    s.charCodeAt(7) !== 45 ||
    s.charCodeAt(10) !== 84 ||
    s.charCodeAt(13) !== 58 ||
    s.charCodeAt(16) !== 58
  )
    return NaN;
  // Small integers throughout (-1 for a non-digit), which V8 keeps unboxed.
  const century = twoDigits(s, 0);
  const yy = twoDigits(s, 2);
  const month = twoDigits(s, 5);
  const day = twoDigits(s, 8);
  const hour = twoDigits(s, 11);
  const minute = twoDigits(s, 14);
  const second = twoDigits(s, 17);
  const year = century * 100 + yy;
  if (
    century < 0 ||
    yy < 0 ||
    year < 1 ||
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysInMonth(year, month) ||
    hour < 0 ||
    hour > 23 ||
    minute < 0 ||
    minute > 59 ||
    second < 0 ||
    second > 59
  )
    return NaN;
  let i = 19;
  let fraction = 0;
  if (s.charCodeAt(i) === 46) {
    // Microseconds at most; Date keeps the first three digits (truncated, as V8 does).
    const start = ++i;
    for (; i < n && i - start < 6; i++) {
      const digit = s.charCodeAt(i) - ZERO;
      if (digit < 0 || digit > 9) break;
      if (i - start < 3) fraction = fraction * 10 + digit;
    }
    if (i === start) return NaN;
    for (let k = i - start; k < 3; k++) fraction *= 10;
  }
  const sign = s.charCodeAt(i);
  if (sign !== 43 && sign !== 45) return NaN;
  // The offset: ±HH, ±HH:MM or ±HH:MM:SS, and nothing after it.
  const rest = n - i - 1;
  if (rest !== 2 && rest !== 5 && rest !== 8) return NaN;
  const offsetHours = twoDigits(s, i + 1);
  const offsetMinutes = rest === 2 ? 0 : s.charCodeAt(i + 3) === 58 ? twoDigits(s, i + 4) : -1;
  const offsetSeconds = rest !== 8 ? 0 : s.charCodeAt(i + 6) === 58 ? twoDigits(s, i + 7) : -1;
  if (offsetHours < 0 || offsetMinutes < 0 || offsetSeconds < 0) return NaN;
  const offset = offsetHours * 3_600_000 + offsetMinutes * 60_000 + offsetSeconds * 1000;
  const local = daysFromCivil(year, month, day) * MS_PER_DAY + hour * 3_600_000 + minute * 60_000 + second * 1000 + fraction;
  return sign === 43 ? local - offset : local + offset;
}

/** The two-digit number at `start`, or -1 if either is not a digit. */
function twoDigits(s: string, start: number): number {
  const tens = s.charCodeAt(start) - ZERO;
  const ones = s.charCodeAt(start + 1) - ZERO;
  return tens >= 0 && tens <= 9 && ones >= 0 && ones <= 9 ? tens * 10 + ones : -1;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  if (month !== 2) return MONTH_DAYS[month - 1]!;
  return (year & 3) === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
}

/**
 * Days since 1970-01-01 of a date from year 1 on (H. Hinnant's days_from_civil, in
 * integers). Not Date.UTC, which reads the years 0-99 as 1900-1999.
 */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = (y / 400) | 0;
  const yearOfEra = y - era * 400;
  const dayOfYear = (((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) | 0) + day - 1;
  const dayOfEra = yearOfEra * 365 + ((yearOfEra / 4) | 0) - ((yearOfEra / 100) | 0) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}
