/** Unit tests of the cookie codec and policy (no database). */
import { describe, expect, it } from "vitest";
import { serialize } from "cookie";
import { createCookiePolicy, isSecureFor, MAX_COOKIE_HEADER, readCookie, serializeSessionCookie, type CookieOptions } from "./cookie.js";
import { SessionConfigError } from "../errors.js";
import { contextOf } from "./request-context.js";

const TOKEN = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ"; // 43 characters

describe("readCookie", () => {
  it("reads the named cookie among others", () => {
    expect(readCookie(`a=1; session=${TOKEN}; b=2`, "session")).toBe(TOKEN);
    expect(readCookie([`a=1`, `session=${TOKEN}`], "session")).toBe(TOKEN);
  });

  it("answers null, never throws, for anything doubtful", () => {
    const cases: unknown[] = [
      undefined,
      null,
      "",
      42,
      {},
      ["a=1", 7],
      `session=${TOKEN}; session=${TOKEN}`, // duplicates: a cookie-tossing attempt or a stale Path
      [`session=${TOKEN}`, `session=other`],
      "session",
      "=;;=;",
      ";;;",
      "session;", // malformed pairs
      "x".repeat(MAX_COOKIE_HEADER + 1),
      `a=${"x".repeat(MAX_COOKIE_HEADER)}; session=${TOKEN}`, // over-long
    ];
    for (const header of cases) expect(readCookie(header as string, "session")).toBeNull();
  });

  it("refuses quoted values (pgsession never sends quotes), and returns invalid UTF-8 and odd values as they are, for the token check to refuse", () => {
    expect(readCookie(`session="${TOKEN}"`, "session")).toBeNull();
    expect(readCookie(`session="${TOKEN}`, "session")).toBeNull();
    expect(readCookie("session=\u00ff\u00fe", "session")).toBe("\u00ff\u00fe");
    expect(readCookie("Session=abc", "session")).toBeNull();
  });

  it("trims names and values of spaces and tabs only (RFC 6265), so a look-alike name with other whitespace is another cookie", () => {
    expect(readCookie(` \t__Host-session=${TOKEN}\t ; a=1`, "__Host-session")).toBe(TOKEN);
    for (const space of ["\u00a0", "\ufeff", "\u2028", "\u3000", "\u000b", "\u000c", "\r", "\n"]) {
      expect(readCookie(`${space}__Host-session=${TOKEN}`, "__Host-session")).toBeNull();
      expect(readCookie(`__Host-session=${TOKEN}${space}`, "__Host-session")).toBe(`${TOKEN}${space}`);
    }
    // The look-alike does not count as a duplicate of the real one either.
    expect(readCookie(`\u00a0__Host-session=forged; __Host-session=${TOKEN}`, "__Host-session")).toBe(TOKEN);
  });
});

describe("createCookiePolicy", () => {
  const option = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(SessionConfigError);
      return (err as SessionConfigError).option;
    }
    throw new Error("expected a SessionConfigError");
  };

  it("refuses bad combinations at start-up, naming the option", () => {
    expect(option(() => createCookiePolicy({ sameSite: "none", secure: false }))).toBe("cookie.sameSite");
    expect(option(() => createCookiePolicy({ partitioned: true, secure: false }))).toBe("cookie.partitioned");
    expect(option(() => createCookiePolicy({ name: "__Host-s", domain: "example.com" }))).toBe("cookie.domain");
    expect(option(() => createCookiePolicy({ name: "__Host-s", path: "/app" }))).toBe("cookie.path");
    expect(option(() => createCookiePolicy({ name: "__Host-s", secure: false }))).toBe("cookie.name");
    expect(option(() => createCookiePolicy({ name: "__Secure-s", secure: false }))).toBe("cookie.name");
    // Prefixes in any case, as browsers now apply them.
    expect(option(() => createCookiePolicy({ name: "__host-x", secure: false }))).toBe("cookie.name");
    expect(option(() => createCookiePolicy({ name: "__HOST-x", domain: "example.com" }))).toBe("cookie.domain");
    expect(option(() => createCookiePolicy({ name: "__secure-x", secure: false }))).toBe("cookie.name");
    expect(option(() => createCookiePolicy({ name: "bad name" }))).toBe("cookie.name");
    expect(option(() => createCookiePolicy({ name: "a;b" }))).toBe("cookie.name");
    expect(option(() => createCookiePolicy({ maxAge: "soon" }))).toBe("cookie.maxAge");
    expect(option(() => createCookiePolicy({ sameSite: "Lax" as never }))).toBe("cookie.sameSite");
    expect(option(() => createCookiePolicy({ samesite: "lax" } as never))).toBe("cookie.samesite");
    expect(option(() => createCookiePolicy("session" as never))).toBe("cookie");
  });

  it("serializes every attribute", () => {
    const policy = createCookiePolicy({ name: "__Host-s", sameSite: "none", partitioned: true, priority: "high", maxAge: "1h" });
    const line = serializeSessionCookie(policy, { value: TOKEN, maxAgeMs: 3_600_000, secure: false, now: new Date(0) });
    expect(line).toBe(
      `__Host-s=${TOKEN}; Max-Age=3600; Path=/; Expires=Thu, 01 Jan 1970 01:00:00 GMT; HttpOnly; Secure; Partitioned; Priority=High; SameSite=None`,
    );
    const plain = serializeSessionCookie(createCookiePolicy({ domain: "example.com", httpOnly: false }), {
      value: TOKEN,
      maxAgeMs: undefined,
      secure: true,
      now: new Date(0),
    });
    expect(plain).toBe(`session=${TOKEN}; Domain=example.com; Path=/; Secure; SameSite=Lax`);
  });
});

describe("serializeSessionCookie: browser-session cookies from cached attributes", () => {
  it("gives exactly what the cookie package serializes, for every combination", () => {
    const policies: CookieOptions[] = [
      {},
      { name: "sid", path: "/app", domain: "example.com", httpOnly: false, sameSite: "strict", priority: "low" },
      { name: "__Host-s", sameSite: "none", partitioned: true, priority: "high" },
      { name: "__Secure-x", domain: ".example.org" },
      { secure: true },
      { secure: false, sameSite: "lax" },
    ];
    for (const options of policies) {
      const policy = createCookiePolicy(options);
      for (const secure of [true, false]) {
        // Twice: the first call fills the cache, the second reads it.
        for (let i = 0; i < 2; i++) {
          expect(serializeSessionCookie(policy, { value: TOKEN, maxAgeMs: undefined, secure, now: new Date() })).toBe(
            serialize(policy.name, TOKEN, {
              path: policy.path,
              ...(policy.domain !== undefined && { domain: policy.domain }),
              httpOnly: policy.httpOnly,
              secure: isSecureFor(policy, secure),
              sameSite: policy.sameSite,
              ...(policy.partitioned && { partitioned: true }),
              ...(policy.priority !== undefined && { priority: policy.priority }),
            }),
          );
        }
      }
    }
  });

  it("leaves values outside the token alphabet to the cookie package (encoded, never raw)", () => {
    const line = serializeSessionCookie(createCookiePolicy(), { value: "a b;c", maxAgeMs: undefined, secure: false, now: new Date() });
    expect(line.startsWith("session=a%20b%3Bc;")).toBe(true);
  });
});

describe("contextOf", () => {
  const facts = {
    tls: false,
    remoteAddress: "10.0.0.2",
    forwardedProto: "https, http",
    forwardedFor: "203.0.113.9, 10.0.0.1",
    userAgent: "ua",
  };
  it("believes the proxy only with trustProxy, and only the entries the trusted proxies added", () => {
    expect(contextOf(facts, false)).toEqual({ secure: false, ip: "10.0.0.2", userAgent: "ua" });
    expect(contextOf(facts, 0)).toEqual({ secure: false, ip: "10.0.0.2", userAgent: "ua" });
    // One proxy: the right-most entries are its own; "203.0.113.9" and "https" came from the client.
    expect(contextOf(facts, true)).toEqual({ secure: false, ip: "10.0.0.1", userAgent: "ua" });
    expect(contextOf(facts, 1)).toEqual({ secure: false, ip: "10.0.0.1", userAgent: "ua" });
    // Two proxies: the outer one added the first entries.
    expect(contextOf(facts, 2)).toEqual({ secure: true, ip: "203.0.113.9", userAgent: "ua" });
    // More hops than entries: the left-most, as proxy-addr does.
    expect(contextOf(facts, 5)).toMatchObject({ secure: true, ip: "203.0.113.9" });
    expect(contextOf({ ...facts, tls: true, forwardedProto: "http" }, true).secure).toBe(true);
    expect(contextOf({ ...facts, forwardedProto: ["HTTPS"], forwardedFor: null }, true)).toMatchObject({ secure: true, ip: "10.0.0.2" });
    // A spoofed header line before the proxy's own: the proxy's line is the last.
    expect(contextOf({ ...facts, forwardedFor: ["6.6.6.6", "198.51.100.7"], forwardedProto: ["https", "http"] }, true)).toMatchObject({
      secure: false,
      ip: "198.51.100.7",
    });
  });
});

describe("serializeSessionCookie: Secure and clearing", () => {
  const now = new Date("2030-01-01T00:00:00Z");
  it("turns Secure on for HTTPS requests when secure is auto, always for prefixes, never when off", () => {
    expect(serializeSessionCookie(createCookiePolicy(), { value: "t", maxAgeMs: undefined, secure: true, now })).toContain("; Secure");
    expect(serializeSessionCookie(createCookiePolicy(), { value: "t", maxAgeMs: undefined, secure: false, now })).not.toContain("Secure");
    expect(
      serializeSessionCookie(createCookiePolicy({ name: "__Host-s" }), { value: "t", maxAgeMs: undefined, secure: false, now }),
    ).toContain("; Secure");
    expect(
      serializeSessionCookie(createCookiePolicy({ secure: false }), { value: "t", maxAgeMs: undefined, secure: true, now }),
    ).not.toContain("Secure");
  });
  it("clears with Max-Age=0 and an Expires in the past", () => {
    expect(serializeSessionCookie(createCookiePolicy(), { value: "", maxAgeMs: 0, secure: false, now })).toBe(
      "session=; Max-Age=0; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax",
    );
  });
});
