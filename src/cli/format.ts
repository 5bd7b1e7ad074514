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

/**
 * A short human duration: "3 min", "5 h", "12 days".
 *
 * @example
 * ```ts
 * formatDuration(90_000); // "1 min"
 * ```
 */
export function formatDuration(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < 60_000) return `${Math.round(abs / 1000)} s`;
  if (abs < 3_600_000) return `${Math.floor(abs / 60_000)} min`;
  if (abs < 172_800_000) return `${Math.floor(abs / 3_600_000)} h`;
  return `${Math.floor(abs / 86_400_000)} days`;
}

/** "5 min ago" / "in 3 h" relative to `now`. */
export function formatRelative(date: Date, now: Date = new Date()): string {
  const delta = date.getTime() - now.getTime();
  if (Math.abs(delta) < 5_000) return "just now";
  return delta < 0 ? `${formatDuration(delta)} ago` : `in ${formatDuration(delta)}`;
}

/** A share as a percentage with one decimal. */
export function formatPercent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

/** JSON for `--json`: Dates as ISO strings, two-space indentation, a final newline. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, null, 2) + "\n";
}
