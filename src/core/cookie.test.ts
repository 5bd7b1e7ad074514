import { describe, expect, it } from "vitest";
import { createCookiePolicy, readCookie, serializeSessionCookie, MAX_COOKIE_HEADER } from "./cookie.js";

const now = new Date("2030-01-01T00:00:00Z");

describe("readCookie", () => {
  it("finds the named cookie among others", () => {
    expect(readCookie("a=1; session=abc; b=2", "session")).toBe("abc");
    expect(readCookie("session=abc", "session")).toBe("abc");
    expect(readCookie(["a=1", "session=abc"], "session")).toBe("abc");
  });
  it("means no session for missing, duplicated, or over-long input", () => {
    expect(readCookie(undefined, "session")).toBeNull();
    expect(readCookie("", "session")).toBeNull();
    expect(readCookie("sessionx=1; xsession=2", "session")).toBeNull();
    expect(readCookie("session=a; session=b", "session")).toBeNull();
    expect(readCookie("session=a; " + "x".repeat(MAX_COOKIE_HEADER), "session")).toBeNull();
    expect(readCookie(";;;=;session", "session")).toBeNull();
  });
});

describe("serializeSessionCookie", () => {
  it("writes a browser-session cookie with the default attributes", () => {
    const policy = createCookiePolicy();
    expect(serializeSessionCookie(policy, { value: "tok", maxAgeMs: undefined, secure: false, now })).toBe(
      "session=tok; Path=/; HttpOnly; SameSite=Lax",
    );
  });
  it("turns Secure on for HTTPS requests when secure is auto, and always for prefixes", () => {
    const auto = createCookiePolicy();
    expect(serializeSessionCookie(auto, { value: "t", maxAgeMs: undefined, secure: true, now })).toContain("; Secure");
    const host = createCookiePolicy({ name: "__Host-s" });
    expect(serializeSessionCookie(host, { value: "t", maxAgeMs: undefined, secure: false, now })).toContain("; Secure");
    const off = createCookiePolicy({ secure: false });
    expect(serializeSessionCookie(off, { value: "t", maxAgeMs: undefined, secure: true, now })).not.toContain("Secure");
  });
  it("writes every configured attribute on a persistent cookie", () => {
    const policy = createCookiePolicy({
      name: "__Secure-sid", domain: "example.com", path: "/app", sameSite: "none", partitioned: true, priority: "high",
    });
    expect(serializeSessionCookie(policy, { value: "t", maxAgeMs: 3_600_000, secure: true, now })).toBe(
      "__Secure-sid=t; Max-Age=3600; Domain=example.com; Path=/app; Expires=Tue, 01 Jan 2030 01:00:00 GMT; HttpOnly; Secure; Partitioned; Priority=High; SameSite=None",
    );
  });
  it("clears with Max-Age=0 and an Expires in the past", () => {
    const cleared = serializeSessionCookie(createCookiePolicy(), { value: "", maxAgeMs: 0, secure: false, now });
    expect(cleared).toBe("session=; Max-Age=0; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax");
  });
});
