/**
 * Pruning: deleting expired sessions in bounded batches, on demand or on an unref'd timer.
 * One prune at a time runs on a table, whichever instance starts it: each batch holds the
 * table's advisory lock, and the prune lease carries a prune across its pauses (see
 * `store/prune-lease.ts`).
 * @module
 */
import { SessionConfigError, SessionStoreError } from "../errors.js";
import { parseDuration, type Duration } from "../lib/duration.js";
import { startTimer } from "../lib/timer.js";
import { emit, type ManagerContext } from "./context.js";

/** The most rows one prune batch may examine (`batchSize`); the CLI checks the same bound. */
export const MAX_PRUNE_BATCH = 100_000;
/** The longest pause between prune batches, in ms (`pause`); the CLI checks the same bound. */
export const MAX_PRUNE_PAUSE_MS = 60_000;
/**
 * The pause between the batches of a background prune unless one is given: about as long
 * as a batch of 1,000 rows takes, so that clearing a large backlog never crowds out the
 * requests it runs beside.
 */
export const DEFAULT_BACKGROUND_PRUNE_PAUSE_MS = 20;

/** Progress of a prune. */
export interface PruneProgress {
  /** Expired rows deleted so far. */
  deleted: number;
  /** Rows examined so far. */
  scanned: number;
}

/** Options of `sessions.prune`. */
export interface PruneOptions {
  /** Rows examined per batch: 1 to 100,000. Default 1000. */
  batchSize?: number;
  /** Wait between batches, holding no lock or transaction. Default none. */
  pause?: Duration;
  /** Called after each batch. */
  onProgress?: (progress: PruneProgress) => void;
}

/** Options of `sessions.startPruning`, and of the automatic prune (`createSessions({ prune })`). */
export interface BackgroundPruneOptions {
  /** How often. Default `"5m"` for `startPruning`, `"15m"` (± 20 %) for the automatic prune. */
  every?: Duration;
  /** Rows examined per batch. Default 1000. */
  batchSize?: number;
  /** Wait between batches. Default `"20ms"`: a background job leaves the database to live traffic. */
  pause?: Duration;
  /** Called with each failure. Default: a warning on the console. */
  onError?: (err: unknown) => void;
}

function batchSizeOf(value: number | undefined, option: string): number {
  if (value === undefined) return 1000;
  if (!Number.isInteger(value) || value < 1 || value > MAX_PRUNE_BATCH) {
    throw new SessionConfigError(option, `must be an integer from 1 to ${MAX_PRUNE_BATCH}, got ${String(value)}`);
  }
  return value;
}

function pauseOf(value: Duration | undefined, option: string, fallback = 0): number {
  if (value === undefined) return fallback;
  const ms = parseDuration(value, option, { allowZero: true });
  if (ms > MAX_PRUNE_PAUSE_MS) throw new SessionConfigError(option, `is longer than a minute (a pause between batches of a prune)`);
  return ms;
}

async function runPrune(
  ctx: ManagerContext,
  run: { batchSize: number; wait: boolean; pauseMs: number; onBatch?: (progress: PruneProgress) => void },
): Promise<number> {
  const result = await ctx.table.prune({
    ...run,
    onExpired: (expired) => {
      for (const session of expired) emit(ctx, "expired", session);
    },
  });
  if (result.locked) ctx.events.emit("pruned", { deleted: result.deleted, scanned: result.scanned });
  return result.deleted;
}

/** Deletes expired sessions now, waiting for another instance's prune to finish first; the count. */
export async function pruneNow(ctx: ManagerContext, options: PruneOptions): Promise<number> {
  return runPrune(ctx, {
    batchSize: batchSizeOf(options.batchSize, "prune.batchSize"),
    wait: true,
    pauseMs: pauseOf(options.pause, "prune.pause"),
    ...(options.onProgress && { onBatch: options.onProgress }),
  });
}

/** How often the automatic prune runs unless `prune.every` says otherwise (as connect-pg-simple prunes). */
export const AUTOMATIC_PRUNE_EVERY = "15m";

/**
 * A background prune's settings, checked: {@link BackgroundPruneOptions} with durations in ms.
 *
 * @example
 * ```ts
 * sessions.options.prune; // { everyMs: 900_000, batchSize: 1000, pauseMs: 20, onError: undefined }
 * ```
 */
export interface BackgroundPrune {
  /** Period between runs, in ms (the automatic prune spreads it by ± 20 %). */
  readonly everyMs: number;
  /** Rows examined per batch. */
  readonly batchSize: number;
  /** Wait between batches, in ms. */
  readonly pauseMs: number;
  /** Called with each failure; undefined: a warning on the console. */
  readonly onError: ((err: unknown) => void) | undefined;
}

/**
 * Checks a background prune's options; throws `SessionConfigError` naming `option` (the
 * method or option they came from) and the field at fault.
 */
export function backgroundPruneOf(options: BackgroundPruneOptions, option: string, every: Duration = "5m"): BackgroundPrune {
  if (typeof options !== "object" || options === null) throw new SessionConfigError(option, "expected an object or false");
  if (options.onError !== undefined && typeof options.onError !== "function")
    throw new SessionConfigError(`${option}.onError`, "must be a function");
  return {
    everyMs: parseDuration(options.every ?? every, `${option}.every`),
    batchSize: batchSizeOf(options.batchSize, `${option}.batchSize`),
    pauseMs: pauseOf(options.pause, `${option}.pause`, DEFAULT_BACKGROUND_PRUNE_PAUSE_MS),
    onError: options.onError,
  };
}

/** Starts the background prune; returns the function that stops it. `jitter` spreads its ticks (see `startTimer`). */
export function startBackgroundPrune(ctx: ManagerContext, prune: BackgroundPrune, jitter = 0): () => void {
  const { everyMs, batchSize, pauseMs } = prune;
  // Store errors already say "pgsession: pruning failed: ..."; anything else gets that prefix.
  const onError =
    prune.onError ??
    ((err: unknown) =>
      console.warn(
        err instanceof SessionStoreError ? err.message : `pgsession: pruning failed: ${String((err as Error)?.message ?? err)}`,
      ));
  return startTimer(
    everyMs,
    async () => {
      try {
        await runPrune(ctx, { batchSize, wait: false, pauseMs });
      } catch (err) {
        onError(err);
      }
    },
    jitter,
  );
}
