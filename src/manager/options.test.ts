import { describe, expect, it } from "vitest";
import { SessionConfigError } from "../errors.js";
import { resolveOptions, type SessionsOptions } from "./options.js";

function optionOf(options: SessionsOptions): string | undefined {
  try {
    resolveOptions(options);
  } catch (err) {
    if (err instanceof SessionConfigError) return err.option;
    throw err;
  }
  return undefined;
}

describe("resolveOptions", () => {
  it("fills in the documented defaults", () => {
    const o = resolveOptions({});
    expect(o.schema).toBe("pgsession");
    expect(o.table).toBe("sessions");
    expect(o.standard).toEqual({ idleMs: 86_400_000, absoluteMs: 604_800_000, touchAfterMs: 8_640_000 });
    expect(o.remember).toEqual({ idleMs: 30 * 86_400_000, absoluteMs: 90 * 86_400_000, touchAfterMs: 3 * 86_400_000 });
    expect(o.staleMs).toBe(10_000);
    expect(o.maxDataSize).toBe(65_536);
    expect(o.saveUninitialized).toBe(false);
    expect(o.cookie).toMatchObject({ name: "session", path: "/", httpOnly: true, secure: "auto", sameSite: "lax", partitioned: false });
  });

  it.each<[SessionsOptions, string]>([
    [{ idleTimeout: "soon" }, "idleTimeout"],
    [{ absoluteTimeout: -1 }, "absoluteTimeout"],
    [{ idleTimeout: "2d", absoluteTimeout: "1d" }, "absoluteTimeout"],
    [{ remember: { idleTimeout: "100d" } }, "remember.absoluteTimeout"],
    [{ touchAfter: "48h" }, "touchAfter"],
    [{ staleTtl: "x" }, "staleTtl"],
    [{ maxDataSize: 0 }, "maxDataSize"],
    [{ maxDataSize: 1.5 }, "maxDataSize"],
    [{ schema: 'x"; drop table y; --' }, "schema"],
    [{ table: "1abc" }, "table"],
    [{ table: "a".repeat(41) }, "table"],
    [{ audience: "" }, "audience"],
    [{ saveUninitialized: "yes" as never }, "saveUninitialized"],
    [{ now: 5 as never }, "now"],
    [{ store: {} as never }, "store"],
    [{ idelTimeout: "1h" } as never, "idelTimeout"],
    [{ cookie: { name: "bad name" } }, "cookie.name"],
    [{ cookie: { name: "a;b" } }, "cookie.name"],
    [{ cookie: { path: "no-slash" } }, "cookie.path"],
    [{ cookie: { path: "/a;b" } }, "cookie.path"],
    [{ cookie: { domain: "exa mple.com" } }, "cookie.domain"],
    [{ cookie: { sameSite: "none", secure: false } }, "cookie.sameSite"],
    [{ cookie: { sameSite: "loose" as never } }, "cookie.sameSite"],
    [{ cookie: { partitioned: true, secure: false } }, "cookie.partitioned"],
    [{ cookie: { name: "__Host-s", domain: "example.com" } }, "cookie.domain"],
    [{ cookie: { name: "__Host-s", path: "/app" } }, "cookie.path"],
    [{ cookie: { name: "__Host-s", secure: false } }, "cookie.name"],
    [{ cookie: { name: "__Secure-s", secure: false } }, "cookie.name"],
    [{ cookie: { priority: "urgent" as never } }, "cookie.priority"],
    [{ cookie: { maxAge: "forever" } }, "cookie.maxAge"],
    [{ cookie: { secure: "sometimes" as never } }, "cookie.secure"],
  ])("%j -> SessionConfigError naming %s", (options, option) => {
    expect(optionOf(options)).toBe(option);
  });

  it("accepts valid prefixed and cross-site configurations", () => {
    expect(optionOf({ cookie: { name: "__Host-session" } })).toBeUndefined();
    expect(optionOf({ cookie: { name: "__Secure-s", domain: "example.com" } })).toBeUndefined();
    expect(optionOf({ cookie: { sameSite: "none", partitioned: true } })).toBeUndefined();
    expect(optionOf({ touchAfter: 0 })).toBeUndefined();
  });
});
