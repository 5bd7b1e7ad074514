/**
 * The demo app's rules that a browser test does not reach: a user can only sign out their
 * own sessions, "sign out all other devices" keeps only the one that asked, messages travel
 * in the session and are shown once, forged and malformed posts are refused, and unknown
 * routes answer 404/405. In process, over real HTTP, on an in-memory PGlite database.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSessions, type Sessions } from "../../src/index.js";
import type { DemoData } from "../../src/cli/demo/app.js";
import { startDemoServer, type DemoServer } from "../../src/cli/demo/server.js";
import { pgliteStore } from "../../src/store/pglite.js";

describe("demo app rules", { timeout: 60_000 }, () => {
  let sessions: Sessions<DemoData>;
  let server: DemoServer;
  let origin: string;

  beforeAll(async () => {
    sessions = createSessions<DemoData>({ store: pgliteStore() });
    await sessions.migrate();
    server = await startDemoServer({ sessions, host: "127.0.0.1", port: 0, database: "PGlite" });
    origin = new URL(server.url).origin;
  });
  afterAll(async () => {
    await server?.close();
    await sessions?.close();
  });

  function post(path: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(new URL(path, origin), {
      method: "POST",
      redirect: "manual",
      body: new URLSearchParams(form),
      headers: { "Sec-Fetch-Site": "same-origin", Origin: origin, ...headers },
    });
  }

  const home = async (cookie: string) => (await fetch(new URL("/", origin), { headers: { Cookie: cookie } })).text();
  const noticeOf = (page: string) => /role="status">([^<]*)/.exec(page)?.[1] ?? null;

  async function signIn(name: string): Promise<{ cookie: string; csrf: string }> {
    const response = await post("/login", { name });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/");
    const cookie = response.headers.get("set-cookie")!.split(";")[0]!;
    const page = await home(cookie);
    expect(noticeOf(page)).toBe("Signed in. The session token was rotated at login.");
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1];
    expect(csrf).toBeDefined();
    return { cookie, csrf: csrf! };
  }

  it("lets a user sign out only their own sessions", async () => {
    const bob = await signIn("bob");
    const alice = await signIn("alice");
    const [bobSession] = await sessions.listUserSessions("bob");
    const response = await post("/revoke", { id: bobSession!.id, csrf: alice.csrf }, { Cookie: alice.cookie });
    expect(response.headers.get("location")).toBe("/");
    expect(noticeOf(await home(alice.cookie))).toBe("That session is not one of yours (or is already gone).");
    expect(await sessions.listUserSessions("bob")).toHaveLength(1);
    expect(await home(bob.cookie)).toContain('id="user">bob<');
  });

  it("signs out all other devices of the user, and keeps the one that asked", async () => {
    const laptop = await signIn("carol");
    const phone = await signIn("carol");
    const tablet = await signIn("carol");
    expect(await home(laptop.cookie)).toContain('id="sign-out-others">Sign out all other devices (2)');
    expect(await sessions.listUserSessions("carol")).toHaveLength(3);

    const response = await post("/revoke-others", { csrf: laptop.csrf }, { Cookie: laptop.cookie });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/");

    for (const other of [phone, tablet]) {
      const page = await home(other.cookie);
      expect(page).not.toContain('id="user"');
      expect(page).toContain('id="name"');
    }
    const page = await home(laptop.cookie);
    expect(noticeOf(page)).toBe("Every other device is signed out.");
    expect(page).toContain('id="user">carol<');
    expect(page).not.toContain('id="sign-out-others"');
    const left = await sessions.listUserSessions("carol");
    expect(left).toHaveLength(1);
    expect(left[0]?.id).toBe((await sessions.resolve(laptop.cookie)).id);
  });

  it("refuses posts from other sites, without origin headers, or without the session's token", async () => {
    const alice = await signIn("alice");
    const cases: Array<[Record<string, string>, Record<string, string>, string]> = [
      [{ csrf: alice.csrf }, { Cookie: alice.cookie, "Sec-Fetch-Site": "cross-site" }, "Sec-Fetch-Site: cross-site"],
      [{ name: "mallory" }, { "Sec-Fetch-Site": "same-site" }, "Sec-Fetch-Site: same-site"],
      [{ csrf: "forged" }, { Cookie: alice.cookie }, "CSRF token"],
    ];
    for (const [form, headers, message] of cases) {
      const response = await post("/count", form, headers);
      expect(response.status).toBe(403);
      expect(await response.text()).toContain(message);
    }
    const bare = await fetch(new URL("/login", origin), { method: "POST", body: new URLSearchParams({ name: "x" }), redirect: "manual" });
    expect(bare.status).toBe(403);
    const wrongOrigin = await fetch(new URL("/login", origin), {
      method: "POST",
      body: new URLSearchParams({ name: "x" }),
      redirect: "manual",
      headers: { Origin: "http://evil.example" },
    });
    expect(wrongOrigin.status).toBe(403);
    expect(await sessions.listUserSessions("x")).toEqual([]);
  });

  it("rejects bad names and answers unknown routes and methods", async () => {
    for (const name of ["   ", "x".repeat(41)]) {
      const refused = await post("/login", { name });
      expect(refused.headers.get("location")).toBe("/");
      // A visitor without a session gets one, holding only the message (and the CSRF token).
      expect(noticeOf(await home(refused.headers.get("set-cookie")!.split(";")[0]!))).toBe("Enter a name of 1 to 40 characters.");
    }
    expect((await fetch(new URL("/nope", origin))).status).toBe(404);
    expect((await fetch(new URL("/", origin), { method: "PUT" })).status).toBe(405);
    const json = await fetch(new URL("/count", origin), {
      method: "POST",
      body: "{}",
      headers: { "Content-Type": "application/json", Origin: origin },
    });
    expect(json.status).toBe(400);
    const page = await fetch(new URL("/", origin));
    expect(page.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(page.headers.get("set-cookie")).toBeNull();
  });

  it("shows a message once: the page view that shows it deletes it from the session, a HEAD does not", async () => {
    const dana = await signIn("dana"); // saw "Signed in" already
    expect(noticeOf(await home(dana.cookie))).toBeNull();
    const logout = await post("/logout", { csrf: dana.csrf }, { Cookie: dana.cookie });
    expect(logout.headers.get("location")).toBe("/");
    // The signed-out session is gone; the message rides in a new, anonymous one.
    const cookie = logout.headers.get("set-cookie")!.split(";")[0]!;
    expect(cookie).not.toBe(dana.cookie);
    const anonymous = await sessions.resolve(cookie);
    expect(anonymous.userId).toBeNull();
    expect(anonymous.get("flash")).toBe("signed-out");
    expect((await fetch(new URL("/", origin), { method: "HEAD", headers: { Cookie: cookie } })).status).toBe(200);
    expect(noticeOf(await home(cookie))).toBe("Signed out: the session&#39;s row is deleted, so its token no longer works anywhere.");
    expect(noticeOf(await home(cookie))).toBeNull();
    expect((await sessions.resolve(cookie)).get("flash")).toBeUndefined();
    expect(await home(dana.cookie)).not.toContain('id="user"');
  });
});
