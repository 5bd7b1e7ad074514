import { describe, expect, it } from "vitest";
import { formatEta, ProgressLine } from "./progress.js";

/** A terminal that keeps what was written, `columns` wide. */
function terminal(columns?: number) {
  const out = { text: "", columns, write: (text: string) => void (out.text += text) };
  return out;
}

/** The lines as a terminal shows them: each "\r" starts the line again. */
const lastLine = (text: string) => (text.split("\r").at(-1) ?? "").replace(/\x1b\[[?\d]*[a-zA-Z]/g, "").replace(/\n$/, "");

describe("ProgressLine", () => {
  it("draws the bar in place, throttled, and ends with a newline and the cursor back", () => {
    let now = 0;
    const out = terminal();
    const line = new ProgressLine(
      out,
      "pruning",
      (value, total, eta) => `${value}/${total} | ${eta} left`,
      () => now,
    );
    line.start(10);
    expect(out.text.startsWith("\x1b[?25l\r")).toBe(true);
    expect(lastLine(out.text)).toBe(`pruning [${"░".repeat(30)}] 0% | 0/10 | ? left`);
    now = 50;
    line.update(2); // within 100 ms of the last draw: not drawn
    expect(lastLine(out.text)).toContain("0/10");
    now = 1000;
    line.update(5);
    expect(lastLine(out.text)).toBe(`pruning [${"█".repeat(15)}${"░".repeat(15)}] 50% | 5/10 | 1s left`);
    line.stop();
    line.stop();
    expect(out.text.endsWith("\n\x1b[?25h")).toBe(true);
    expect(out.text.match(/\n/g)).toHaveLength(1);
  });

  it("keeps within the terminal's width and counts past a total found too small", () => {
    const out = terminal(40);
    const line = new ProgressLine(out, "pruning", (value, total) => `${value}/${total} rows scanned`);
    line.start(0);
    expect(line.total).toBe(1);
    line.setTotal(7);
    line.update(7);
    line.stop();
    const shown = lastLine(out.text);
    expect(shown.length).toBe(39);
    expect(shown).toMatch(/^pruning \[█+\] 100% \| 7\//);
  });
});

describe("formatEta", () => {
  it("says seconds, minutes or hours", () => {
    expect(formatEta(12_400)).toBe("12s");
    expect(formatEta(245_000)).toBe("4m 05s");
    expect(formatEta(3 * 3_600_000 + 120_000)).toBe("3h 2m");
    expect(formatEta(Number.NaN)).toBe("?");
  });
});
