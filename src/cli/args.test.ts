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

describe("--pglite [DIR]", () => {
  const dirOf = (argv: string[]) => parseCommand("status", argv, {}).common.dataDir;

  it("takes an optional directory: alone, last or before another option, it means ./.pgsession", () => {
    expect(dirOf(["--pglite"])).toBe(".pgsession");
    expect(dirOf(["--pglite", "--json"])).toBe(".pgsession");
    expect(dirOf(["--pglite", "data/sessions", "--json"])).toBe("data/sessions");
    expect(dirOf(["--pglite=data"])).toBe("data");
    expect(dirOf(["--data-dir", "data"])).toBe("data");
    expect(dirOf([])).toBeUndefined();
  });

  it("refuses an empty directory and two directories", () => {
    expect(() => dirOf(["--pglite="])).toThrow("--pglite needs a non-empty value");
    expect(() => dirOf(["--pglite", "a", "--data-dir", "b"])).toThrow("give --pglite DIR or --data-dir DIR, not both");
  });
});
