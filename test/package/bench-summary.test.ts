/**
 * The benchmark's arithmetic (bench/lib/summary.ts): paired ratios per round, and round 0,
 * the runs made only to count statements, giving work but no throughput.
 */
import { describe, expect, it } from "vitest";
import type { RunRecord } from "../../bench/lib/measure.js";
import type { DbWork } from "../../bench/lib/pgstats.js";
import { pairedRatios, summarizeRuns } from "../../bench/lib/summary.js";

const work: DbWork = {
  statementsPerRequest: 2,
  rowWritesPerRequest: 1,
  rowsInserted: 0,
  rowsUpdated: 10,
  rowsHotUpdated: 10,
  rowsDeleted: 0,
  transactions: 20,
};

function run(server: string, round: number, rps: number, counted: DbWork | null = null): RunRecord {
  return {
    server,
    scenario: "write",
    round,
    rps,
    requests: rps * 5,
    p50Us: 1000,
    p99Us: 5000,
    errors: 0,
    rssMiB: 60,
    serverCpuUs: 100,
    dbCpuUs: 50,
    machineBusy: 0.9,
    walBytes: 150,
    work: counted,
  };
}

describe("bench summary", () => {
  const runs = [
    run("a", 0, 1, work),
    run("b", 0, 1, { ...work, statementsPerRequest: 2.5 }),
    run("a", 1, 900),
    run("b", 1, 1000),
    run("a", 2, 450),
    run("b", 2, 600),
    run("a", 3, 800),
    run("b", 3, 800),
  ];

  it("pairs the servers per round and takes the median of the ratios, leaving round 0 out", () => {
    const ratio = pairedRatios(runs)("a", "b", "write");
    expect(ratio).toMatchObject({ median: 0.9, min: 0.75, max: 1, rounds: 3 });
    expect(ratio?.ofMedians).toBeCloseTo(800 / 800);
  });

  it("gives throughput over the measured rounds and work from the counting run", () => {
    const cells = summarizeRuns(runs);
    expect(cells.get("a/write")).toMatchObject({ rounds: 3, median: 800, min: 450, max: 900, work });
    expect(cells.get("b/write")?.work?.statementsPerRequest).toBe(2.5);
  });
});
