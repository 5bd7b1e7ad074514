/**
 * `pgsession prune`: deletes expired sessions in bounded batches, with a progress bar on a
 * terminal and one plain line per batch otherwise.
 * @module
 */
import { optionalDurationMs, optionalInteger } from "../args.js";
import { MAX_PRUNE_BATCH, MAX_PRUNE_PAUSE_MS } from "../../manager/prune.js";
import { EXIT, withSessions, type Command } from "../command.js";
import { toJson } from "../format.js";
import { ProgressLine } from "../progress.js";

/** The `prune` command. */
export const pruneCommand: Command = {
  name: "prune",
  summary: "delete expired sessions in bounded batches, with progress",
  help: `Usage: pgsession prune [--batch-size N] [--pause D] [--dry-run] [options]

Deletes the sessions whose idle or absolute timeout has passed. The table is walked by
primary key in batches of N rows (default 1000), each batch a short transaction under an
advisory lock, so pruning never blocks session reads and two pruners never overlap: when
another prune is under way (an app's automatic prune), this one waits for it to end.
Shows a progress bar when stderr is a terminal, one line per batch otherwise.

Options:
  --batch-size N       rows examined per batch, 1 to ${MAX_PRUNE_BATCH} (default 1000)
  --pause D            wait D between batches (e.g. 20ms), leaving the database to live
                       traffic; at most ${MAX_PRUNE_PAUSE_MS / 1000}s (default: no pause)
  --dry-run            only count the expired sessions`,
  options: { "batch-size": { type: "string" }, pause: { type: "string" }, "dry-run": { type: "boolean" } },
  validate(ctx) {
    optionalInteger(ctx.values, "batch-size", ctx.command, 1, MAX_PRUNE_BATCH);
    optionalDurationMs(ctx.values, "pause", ctx.command, MAX_PRUNE_PAUSE_MS);
  },
  async run(ctx) {
    const batchSize = optionalInteger(ctx.values, "batch-size", ctx.command, 1, MAX_PRUNE_BATCH) ?? 1000;
    const pause = optionalDurationMs(ctx.values, "pause", ctx.command, MAX_PRUNE_PAUSE_MS) ?? 0;
    return withSessions(ctx, async (sessions) => {
      const before = await sessions.counts();
      if (before === null) {
        ctx.stderr.write(`pgsession: the sessions table does not exist; run pgsession migrate\n`);
        return EXIT.notFound;
      }
      if (ctx.values["dry-run"] === true) {
        if (ctx.common.json) ctx.stdout.write(toJson({ dryRun: true, expired: before.expired, total: before.total }));
        else ctx.stdout.write(`${before.expired} of ${before.total} sessions are expired; nothing deleted (--dry-run)\n`);
        return EXIT.ok;
      }
      const started = Date.now();
      let bar: ProgressLine | null = null;
      let deletedSoFar = 0;
      if (ctx.terminal) {
        bar = new ProgressLine(
          ctx.terminal,
          "pruning",
          (value, total, eta) => `${value}/${total} rows scanned | ${deletedSoFar} deleted | ${eta} left`,
        );
        bar.start(before.total);
      }
      let batches = 0;
      let scanned = 0;
      let deleted: number;
      try {
        deleted = await sessions.prune({
          batchSize,
          pause,
          onProgress: (progress) => {
            batches += 1;
            scanned = progress.scanned;
            if (bar) {
              // Rows created while pruning can take the count past the first estimate.
              if (progress.scanned > bar.total) bar.setTotal(progress.scanned);
              deletedSoFar = progress.deleted;
              bar.update(progress.scanned);
            } else if (!ctx.common.json) {
              ctx.stdout.write(`batch ${batches}: scanned ${progress.scanned}/${before.total}, deleted ${progress.deleted}\n`);
            }
          },
        });
      } finally {
        bar?.stop();
      }
      const elapsedMs = Date.now() - started;
      if (ctx.common.json) {
        ctx.stdout.write(toJson({ deleted, scanned, batches, batchSize, elapsedMs }));
      } else {
        ctx.stdout.write(
          `deleted ${deleted} expired session${deleted === 1 ? "" : "s"} in ${batches} batch${batches === 1 ? "" : "es"} (${elapsedMs} ms)\n`,
        );
      }
      return EXIT.ok;
    });
  },
};
