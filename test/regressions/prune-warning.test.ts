import { afterEach, describe, expect, it, vi } from "vitest";
import type { StoreDriver } from "../../src/driver.js";
import { createSessions } from "../../src/index.js";

/** A driver whose database is unreachable. */
function unreachable(): StoreDriver {
  const fail = () => Promise.reject(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" }));
  return { kind: "unreachable", query: fail, exec: fail, transaction: fail, close: async () => {} };
}

describe("startPruning", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("bug: a pruning failure was logged with a doubled 'pgsession: pruning failed:' prefix", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const sessions = createSessions({ store: unreachable() });
    const stop = sessions.startPruning({ every: "10ms" });
    try {
      await vi.waitFor(() => expect(warn).toHaveBeenCalled(), { timeout: 2_000 });
      expect(warn.mock.calls[0]).toEqual(["pgsession: pruning failed: connect ECONNREFUSED 127.0.0.1:1"]);
    } finally {
      stop();
      await sessions.close();
    }
  });
});
