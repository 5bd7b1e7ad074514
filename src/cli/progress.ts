/**
 * A one-line progress bar for a terminal, redrawn in place: what `pgsession prune` shows
 * on stderr. A few escape codes are all it takes, so the CLI needs no progress-bar package
 * (one would be installed into every application that depends on pgsession).
 * @module
 */

/** Where the bar is drawn: a terminal stream (`columns` is its width when known). */
export interface ProgressTerminal {
  write(text: string): unknown;
  readonly columns?: number | undefined;
}

const BAR_WIDTH = 30;
const MIN_BAR_WIDTH = 5;
const HIDE_CURSOR = "\x1b[?25l";
const SHOW_CURSOR = "\x1b[?25h";
/** Back to the line's start, and (after the text) erase what an older, longer line left. */
const LINE_START = "\r";
const ERASE_REST = "\x1b[K";
/** At most one redraw per this many milliseconds, except the last. */
const REDRAW_MS = 100;

/** `3h 2m`, `4m 05s`, `12s`: a short duration for the time left. */
export function formatEta(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "?";
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
}

/**
 * A progress line: `start` it with a total, `update` it as work is done, `stop` it once
 * (it then ends with a newline and shows the cursor again). `label(value, total, eta)`
 * renders the text after the bar.
 *
 * @example
 * ```ts
 * const line = new ProgressLine(process.stderr, "pruning", (value, total, eta) => `${value}/${total} | ${eta} left`);
 * line.start(1000);
 * line.update(500);
 * line.stop();
 * ```
 */
export class ProgressLine {
  readonly #terminal: ProgressTerminal;
  readonly #title: string;
  readonly #label: (value: number, total: number, eta: string) => string;
  readonly #now: () => number;
  #total = 1;
  #value = 0;
  #startedAt = 0;
  #drawnAt = -Infinity;
  #running = false;

  constructor(
    terminal: ProgressTerminal,
    title: string,
    label: (value: number, total: number, eta: string) => string,
    now: () => number = Date.now,
  ) {
    this.#terminal = terminal;
    this.#title = title;
    this.#label = label;
    this.#now = now;
  }

  /** The total the bar counts towards. */
  get total(): number {
    return this.#total;
  }

  /** Shows the bar at 0 of `total` and hides the cursor. */
  start(total: number): void {
    this.#total = Math.max(1, total);
    this.#value = 0;
    this.#startedAt = this.#now();
    this.#running = true;
    this.#terminal.write(HIDE_CURSOR);
    this.#draw(true);
  }

  /** Sets the total (work found on the way can take it past the first estimate). */
  setTotal(total: number): void {
    this.#total = Math.max(1, total);
  }

  /** Moves the bar to `value`; redraws at most every 100 ms. */
  update(value: number): void {
    this.#value = Math.min(value, this.#total);
    this.#draw(false);
  }

  /** Draws the last state, ends the line, shows the cursor. Does nothing twice. */
  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    this.#draw(true);
    this.#terminal.write(`\n${SHOW_CURSOR}`);
  }

  #draw(force: boolean): void {
    const now = this.#now();
    if (!force && now - this.#drawnAt < REDRAW_MS) return;
    this.#drawnAt = now;
    const share = this.#value / this.#total;
    const elapsed = now - this.#startedAt;
    const eta = this.#value === 0 ? "?" : formatEta((elapsed / this.#value) * (this.#total - this.#value));
    const head = `${this.#title} [`;
    const tail = `] ${Math.floor(share * 100)}% | ${this.#label(this.#value, this.#total, eta)}`;
    // A line as wide as the terminal would wrap, and "\r" would then redraw only its last
    // row: on a narrow terminal the bar shrinks first, then the text is cut.
    const columns = this.#terminal.columns;
    const room = columns !== undefined && columns > 1 ? columns - 1 : Infinity;
    const width = Math.max(MIN_BAR_WIDTH, Math.min(BAR_WIDTH, room - head.length - tail.length));
    const filled = Math.round(share * width);
    const line = `${head}${"\u2588".repeat(filled)}${"\u2591".repeat(width - filled)}${tail}`.slice(0, room);
    this.#terminal.write(LINE_START + line + ERASE_REST);
  }
}
