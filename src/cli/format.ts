/**
 * Output helpers: aligned text tables, times, and the JSON document `--json` prints.
 * @module
 */

/** Where a command writes. */
export interface Output {
  write(text: string): void;
}

/**
 * Renders rows as an aligned table with a header line.
 *
 * @example
 * ```ts
 * formatTable(["id", "ip"], [["abc", "127.0.0.1"]]);
 * ```
 */
export function formatTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n") + "\n";
}

/** Renders `label: value` pairs with aligned values. */
export function formatPairs(pairs: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(...pairs.map(([label]) => label.length));
  return pairs.map(([label, value]) => `${`${label}:`.padEnd(width + 2)}${value}`).join("\n") + "\n";
}

/** An ISO time without milliseconds, in UTC, or "-". */
export function formatTime(date: Date | null | undefined): string {
  if (!date) return "-";
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

// Days are the largest unit: "in 90 days" says exactly what "in 3 months" blurs.
const UNITS = [
  { unit: "second", ms: 1000, next: 60 },
  { unit: "minute", ms: 60_000, next: 60 },
  { unit: "hour", ms: 3_600_000, next: 24 },
  { unit: "day", ms: 86_400_000, next: Infinity },
] as const;

/**
 * `ms` rounded to the nearest whole unit, in the largest unit it reaches once rounded:
 * 59.6 minutes is 1 hour, 90 days less a few milliseconds is 90 days.
 */
function roundToUnit(ms: number): { value: number; unit: (typeof UNITS)[number]["unit"] } {
  const abs = Math.abs(ms);
  for (const { unit, ms: size, next } of UNITS) {
    const value = Math.round(abs / size);
    if (value < next) return { value, unit };
  }
  throw new Error("unreachable: days have no next unit");
}

const relative = new Intl.RelativeTimeFormat("en", { numeric: "always" });

/**
 * A human duration, rounded to the nearest unit: "45 seconds", "3 hours", "90 days".
 *
 * @example
 * ```ts
 * formatDuration(90_000); // "2 minutes"
 * ```
 */
export function formatDuration(ms: number): string {
  const { value, unit } = roundToUnit(ms);
  return new Intl.NumberFormat("en", { style: "unit", unit, unitDisplay: "long" }).format(value);
}

/**
 * "5 minutes ago" / "in 90 days" relative to `now`, rounded like {@link formatDuration}.
 *
 * @example
 * ```ts
 * formatRelative(new Date(Date.now() + 90 * 86_400_000)); // "in 90 days"
 * ```
 */
export function formatRelative(date: Date, now: Date = new Date()): string {
  const delta = date.getTime() - now.getTime();
  if (Math.abs(delta) < 5_000) return "just now";
  const { value, unit } = roundToUnit(delta);
  return relative.format(delta < 0 ? -value : value, unit);
}

/** A share as a percentage with one decimal. */
export function formatPercent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

/** JSON for `--json`: Dates as ISO strings, two-space indentation, a final newline. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, null, 2) + "\n";
}
