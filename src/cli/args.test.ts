import { describe, expect, it } from "vitest";
import { CliUsageError, parseCommand } from "./args.js";

describe("parseCommand", () => {
  const specs = { session: { type: "string" }, user: { type: "string" }, except: { type: "string" } } as const;

  it("regression: ids starting with '-' (base64url) were refused as ambiguous option values", () => {
    const { values, common } = parseCommand("revoke", ["--user", "-alice", "--except", "-Xy3_9", "--json"], specs);
    expect(values).toMatchObject({ user: "-alice", except: "-Xy3_9" });
    expect(common.json).toBe(true);
  });

  it("still treats a following known option as a missing value", () => {
    expect(() => parseCommand("revoke", ["--user", "--json"], specs)).toThrow(CliUsageError);
    expect(() => parseCommand("revoke", ["--user", "-h"], specs)).toThrow(CliUsageError);
  });
});
