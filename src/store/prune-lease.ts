/**
 * The prune lease (migration 004): which prune of a table is under way. A prune deletes in
 * batches, each its own short transaction under the table's prune lock (a transaction-scoped
 * advisory lock), and holds no lock, transaction or connection in the pause between two
 * batches, so the lock alone would let another instance's prune start in that pause and
 * interleave its batches with the first one's. Each batch therefore also claims the lease,
 * a one-row table, and renews it before it commits; another prune may claim it only once it
 * is released or has expired (its holder died, or stalled past the grace below).
 * @module
 */
import type { TableName } from "../session/table.js";
import { plainStatement, type BuiltStatement } from "./sql/build.js";
import { milliseconds, qualifiedName } from "./sql/fragments.js";

/**
 * How long a lease outlives the pause after the batch that renewed it: the COMMIT, the
 * caller's progress and event handlers, and waiting for a connection all fit in it. A
 * holder slower than that loses the lease and stops at its next batch (another prune takes
 * over, never both); a holder that died blocks pruning for that long, which a periodic task
 * does not notice.
 */
export const PRUNE_LEASE_GRACE_MS = 5_000;

/** How often an explicit prune, waiting for another instance's prune to end, asks again. */
export const PRUNE_LEASE_POLL_MS = 100;

/** The lease's statements for one table. */
export interface PruneLeaseStatements {
  /** Claims the lease for `holder` (or renews it), for `ttl` ms from now; one row `claimed` when it is this holder's. */
  readonly claim: BuiltStatement;
  /** Releases `holder`'s lease (nothing when another holds it by now). */
  readonly release: BuiltStatement;
}

/**
 * Builds the lease statements of the table `names`. They read the database's real time
 * (`clock_timestamp()`), never an injected clock: the lease measures time between
 * instances, not sessions' expiry.
 *
 * @example
 * ```ts
 * const lease = pruneLeaseStatements({ schema: "pgsession", table: "sessions" });
 * const [row] = await tx.query(lease.claim, [holder, 5_000]); // row?.claimed === true: ours
 * ```
 */
export function pruneLeaseStatements(names: TableName): PruneLeaseStatements {
  const lease = qualifiedName(names, "_prune_lease");
  return {
    claim: plainStatement(
      "prune_lease_claim",
      { holder: "text", ttl: "float8" },
      (p) =>
        `INSERT INTO ${lease} AS l (holder, expires_at) VALUES (${p.holder}, clock_timestamp() + ${milliseconds(p.ttl)})
         ON CONFLICT (singleton) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
          WHERE l.holder = excluded.holder OR l.expires_at < clock_timestamp()
        RETURNING true AS claimed`,
    ),
    release: plainStatement("prune_lease_release", { holder: "text" }, (p) => `DELETE FROM ${lease} WHERE holder = ${p.holder}`),
  };
}
