import { describe, expect, it } from "vitest";
import { CliUsageError, type CommonValues } from "./args.js";
import { chooseTarget, redact } from "./connect.js";

type Given = Pick<CommonValues, "databaseUrl" | "dataDir">;
const none: Given = { databaseUrl: undefined, dataDir: undefined };

/** The usage error `chooseTarget` throws for these inputs. */
function usageError(common: Partial<Given>, env: NodeJS.ProcessEnv): CliUsageError {
  try {
    chooseTarget({ ...none, ...common }, env, "/app");
  } catch (err) {
    if (err instanceof CliUsageError) return err;
    throw err;
  }
  throw new Error("chooseTarget accepted it");
}

describe("chooseTarget", () => {
  it("prefers --pglite, then --database-url, then DATABASE_URL, then PG* variables", () => {
    expect(chooseTarget({ ...none, databaseUrl: "postgres://u:pw@h/db" }, { DATABASE_URL: "postgres://other/db" }, "/app")).toMatchObject({
      kind: "postgresql",
      location: "postgres://u:***@h/db",
      url: "postgres://u:pw@h/db",
    });
    expect(chooseTarget(none, { DATABASE_URL: "postgres://other/db" }, "/app")).toMatchObject({
      kind: "postgresql",
      url: "postgres://other/db",
    });
    expect(chooseTarget(none, { PGHOST: "db.internal", PGDATABASE: "app" }, "/app")).toMatchObject({
      kind: "postgresql",
      location: "PG* variables (db.internal:5432/app)",
    });
    expect(chooseTarget({ ...none, dataDir: "data" }, { DATABASE_URL: "postgres://x/y" }, "/app")).toEqual({
      kind: "pglite",
      location: "/app/data",
    });
  });

  it("falls back to PGlite in ./.pgsession only for a command that asks for it (the demo)", () => {
    expect(chooseTarget(none, {}, "/app", { embeddedByDefault: true })).toEqual({ kind: "pglite", location: "/app/.pgsession" });
    const error = usageError({}, {});
    expect(error.message).toContain("no database given: set DATABASE_URL (e.g. DATABASE_URL=postgres://");
    expect(error.message).toContain("--database-url URL");
    expect(error.message).toContain("--pglite [DIR]");
  });

  it.each<[Partial<Given>, NodeJS.ProcessEnv, string]>([
    [{}, { DATABASE_URL: "" }, "DATABASE_URL is empty"],
    [{}, { DATABASE_URL: "  " }, "DATABASE_URL is empty"],
    [{ databaseUrl: "" }, {}, "--database-url is empty"],
    [{}, { DATABASE_URL: "mysql://root:hunter2@db/app" }, 'DATABASE_URL must be a postgres:// or postgresql:// URL, not "mysql:..."'],
    [{ databaseUrl: "localhost:5432/app" }, {}, '--database-url must be a postgres:// or postgresql:// URL, not "localhost:..."'],
    [{}, { DATABASE_URL: "hunter2" }, "DATABASE_URL must be a postgres:// or postgresql:// URL, e.g."],
    [{}, { DATABASE_URL: "postgres://u:hunter2@db:port/app" }, "DATABASE_URL cannot be parsed as a URL"],
    [{}, { DATABASE_URL: "postgres://u:hun#ter2@db/app" }, "DATABASE_URL cannot be parsed as a URL"],
    [{}, { DATABASE_URL: "postgres://u:hunter2@db/app#x" }, 'DATABASE_URL contains "#"'],
    // An empty DATABASE_URL is a mistake even when PG* variables could stand in.
    [{}, { DATABASE_URL: "", PGHOST: "db" }, "DATABASE_URL is empty"],
  ])("%j with %j is a usage error: %s", (common, env, message) => {
    const error = usageError(common, env);
    expect(error.message).toContain(message);
    const source = common.databaseUrl !== undefined ? "--database-url postgres://" : "DATABASE_URL=postgres://";
    expect(error.message).toContain(`e.g. ${source}user:password@localhost:5432/app`);
    expect(error.message).not.toContain("hunter2");
  });

  it("accepts what node-postgres accepts: postgresql://, any case, a socket host, credentials without a host", () => {
    for (const url of ["postgresql://h/db", "POSTGRES://h/db", "postgres:///db?host=/var/run/postgresql", "postgres://u:pw@/db"]) {
      expect(chooseTarget(none, { DATABASE_URL: url }, "/app")).toMatchObject({ kind: "postgresql", url });
    }
  });

  it("refuses a server and an embedded database at once", () => {
    expect(usageError({ databaseUrl: "postgres://h/db", dataDir: "x" }, {}).message).toBe("give --database-url or --pglite, not both");
  });

  it("never shows a password", () => {
    expect(redact("postgres://user:s3cret@host:5432/db")).not.toContain("s3cret");
    expect(redact("not a url")).toBe("(unparsable URL)");
  });
});
