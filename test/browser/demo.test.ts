/**
 * The demo app in real headless Chromium (Debian's `chromium`, driven by playwright-core):
 * started on PORT with a line while PGlite starts, two devices of one user with labels
 * that say which device they sign out, one-time messages kept in the session (never in the
 * URL), times rounded as a person reads them, and a counter that survives a server restart.
 * Writes screenshots to screenshots/ (ignored by git).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanEnv } from "../support/cli.js";
import { startDemoProcess, type DemoProcess } from "../support/demo-process.js";

function findChromium(): string | null {
  try {
    return execFileSync("which", ["chromium"], { encoding: "utf8" }).trim() || null;
  } catch {
    return null;
  }
}

// Where a missing browser is a failure, not a skip: CI, and wherever PostgreSQL suites are
// required (PGSESSION_REQUIRE_POSTGRES=1, as in .ci/run and test/support/db.ts). Read here
// rather than imported: db.ts connects to PostgreSQL on import, which this test does not use.
const REQUIRE_BROWSER = Boolean(process.env.CI) || process.env.PGSESSION_REQUIRE_POSTGRES === "1";
const CHROMIUM = findChromium();
if (!CHROMIUM) {
  if (REQUIRE_BROWSER) throw new Error("chromium is not installed (apt-get install -y chromium); .ci/run installs it");
  console.warn("SKIPPING the browser test: no `chromium` on PATH (apt-get install -y chromium)");
}

const SCREENSHOTS = fileURLToPath(new URL("../../screenshots/", import.meta.url));
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const LINUX_FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
const IPHONE_SAFARI =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

/** A port nothing listens on right now, for PORT. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe.skipIf(!CHROMIUM)("demo app in headless Chromium", () => {
  let port: number;
  let cwd: string;
  let demo: DemoProcess;
  let browser: Browser;
  let laptop: BrowserContext;
  let phone: BrowserContext;
  let laptopPage: Page;
  let phonePage: Page;

  beforeAll(async () => {
    cwd = mkdtempSync(join(tmpdir(), "pgsession-demo-"));
    mkdirSync(SCREENSHOTS, { recursive: true });
    port = await freePort();
    [demo, browser] = await Promise.all([
      // No --port and no database setting: PORT, and the embedded database in ./.pgsession.
      startDemoProcess({ cwd, env: cleanEnv({ PORT: String(port) }), args: [] }),
      chromium.launch({
        executablePath: CHROMIUM!,
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-background-networking",
          "--disable-component-update",
          "--no-first-run",
        ],
        timeout: 60_000,
      }),
    ]);
    laptop = await browser.newContext({ userAgent: LINUX_FIREFOX, viewport: { width: 1100, height: 900 } });
    // The phone has JavaScript off: the demo must work with plain forms.
    phone = await browser.newContext({ userAgent: IPHONE_SAFARI, viewport: { width: 420, height: 900 }, javaScriptEnabled: false });
    laptopPage = await laptop.newPage();
    phonePage = await phone.newPage();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await demo?.stop();
    if (cwd) rmSync(cwd, { recursive: true, force: true });
  });

  /** Writes a full-page screenshot to screenshots/ and checks the file is a non-empty PNG. */
  async function screenshot(page: Page, file: string): Promise<void> {
    const path = join(SCREENSHOTS, file);
    rmSync(path, { force: true });
    await page.screenshot({ path, fullPage: true });
    const bytes = readFileSync(path);
    expect(bytes.length).toBeGreaterThan(PNG_SIGNATURE.length);
    expect(bytes.subarray(0, 8).equals(PNG_SIGNATURE), `${file} starts with the PNG signature`).toBe(true);
  }

  /** The one-time message on the page, or null. */
  async function notice(page: Page): Promise<string | null> {
    return (await page.locator("[role=status]").count()) === 0 ? null : page.textContent("[role=status]");
  }

  async function signIn(page: Page, name: string, remember: boolean): Promise<void> {
    await page.goto(demo.url);
    await page.fill("#name", name);
    if (remember) await page.check("input[name=remember]");
    await page.click("button:has-text('Sign in')");
    await expect.poll(() => page.textContent("#user")).toBe(name);
    // The message came through the session: the URL is the plain page.
    expect(page.url()).toBe(demo.url);
    expect(await notice(page)).toContain("Signed in. The session token was rotated at login.");
  }

  it("listens on PORT, and says the embedded database is starting before it is ready", () => {
    expect(new URL(demo.url).port).toBe(String(port));
    const output = demo.output();
    const starting = output.indexOf(`pgsession demo: starting the embedded PostgreSQL (PGlite) in ${join(cwd, ".pgsession")}…`);
    expect(starting, output).toBeGreaterThanOrEqual(0);
    expect(starting).toBeLessThan(output.indexOf(demo.url));
  });

  it("two devices of one user see each other; one signs the other out", async () => {
    await signIn(laptopPage, "alice", true);
    await screenshot(laptopPage, "demo-signed-in.png");
    // Shown once: a reload does not bring the message back.
    await laptopPage.reload();
    expect(await notice(laptopPage)).toBeNull();
    await laptopPage.click("#increment");
    await laptopPage.click("#increment");
    expect(await laptopPage.textContent("#count")).toBe("2");
    await signIn(phonePage, "alice", false);

    await laptopPage.reload();
    for (const page of [laptopPage, phonePage]) {
      await page.reload();
      expect(await page.locator("#sessions tbody tr").count()).toBe(2);
      expect(await page.locator("#sessions tr.current").count()).toBe(1);
    }
    expect(await laptopPage.textContent("#sessions tr.current")).toContain("Firefox 128 on Linux");
    expect(await laptopPage.textContent("#sessions tr.other")).toContain("Safari 17 on iOS");
    expect(await laptopPage.textContent("#cookie")).toContain("HttpOnly");
    expect(await laptopPage.textContent("#cookie")).toContain("remember me");

    // Times rounded, not truncated: a remember-me session idles out in 30 days and ends in 90
    // at the latest (its cookie's Max-Age); a browser session idles out in a day.
    expect(await laptopPage.textContent("#sessions tr.current td[data-label=Expires]")).toBe("in 30 days");
    expect(await laptopPage.textContent("#sessions tr.other td[data-label=Expires]")).toBe("in 1 day");
    expect(await laptopPage.textContent("#cookie")).toMatch(/\(90 days\)/);
    expect(await laptopPage.textContent("#cookie")).toContain("in 90 days at the latest (remember me)");
    expect(await phonePage.textContent("#cookie")).toContain("in 7 days at the latest");

    // Each row's button says which device it signs out.
    expect(await laptopPage.textContent("#sessions tr.current button")).toBe("Sign out this device");
    expect(await laptopPage.textContent("#sessions tr.other button")).toBe("Sign out that device");
    expect(await phonePage.textContent("#sessions tr.other button")).toBe("Sign out that device");
    await screenshot(laptopPage, "demo-two-devices.png");
    await screenshot(phonePage, "demo-phone.png");

    await laptopPage.click("#sessions tr.other button:has-text('Sign out that device')");
    expect(laptopPage.url()).toBe(demo.url);
    expect(await notice(laptopPage)).toContain("That device is signed out");
    expect(await laptopPage.locator("#sessions tbody tr").count()).toBe(1);
    await screenshot(laptopPage, "demo-signed-out-other-device.png");

    // The phone learns it on its next request: an anonymous page with the sign-in form, and
    // no message meant for the laptop or left over from its own sign-in.
    await phonePage.reload();
    expect(await phonePage.locator("#user").count()).toBe(0);
    expect(await phonePage.locator("#name").count()).toBe(1);
    expect(await notice(phonePage)).toBeNull();
  }, 120_000);

  it("refuses form posts from another origin and posts without the session's CSRF token", async () => {
    const crossSite = await laptop.request.post(new URL("/count", demo.url).href, {
      form: { csrf: "whatever" },
      headers: { Origin: "http://evil.example" },
      maxRedirects: 0,
    });
    expect(crossSite.status()).toBe(403);
    const noToken = await laptop.request.post(new URL("/count", demo.url).href, {
      form: {},
      headers: { Origin: new URL(demo.url).origin },
      maxRedirects: 0,
    });
    expect(noToken.status()).toBe(403);
    expect(await noToken.text()).toContain("CSRF token");
    await laptopPage.reload();
    expect(await laptopPage.textContent("#count")).toBe("2");
  }, 60_000);

  it("keeps the counter and the sign-in across a server restart", async () => {
    expect(await demo.stop()).toBe(0);
    // --port wins over PORT, even over one that would be refused.
    demo = await startDemoProcess({ cwd, env: cleanEnv({ PORT: "not-a-port" }), args: ["--port", "0"] });
    await laptopPage.goto(demo.url);
    expect(await laptopPage.textContent("#user")).toBe("alice");
    expect(await laptopPage.textContent("#count")).toBe("2");
    await laptopPage.click("#increment");
    expect(await laptopPage.textContent("#count")).toBe("3");
    await screenshot(laptopPage, "demo-after-restart.png");

    // This device's own row signs this browser out; the message survives the logout in a new,
    // anonymous session.
    await laptopPage.click("#sessions tr.current button:has-text('Sign out this device')");
    expect(laptopPage.url()).toBe(demo.url);
    expect(await laptopPage.locator("#name").count()).toBe(1);
    expect(await notice(laptopPage)).toContain("Signed out");
    await screenshot(laptopPage, "demo-signed-out.png");
  }, 120_000);
});
