/**
 * The demo's HTML: one page, plain forms (no JavaScript), every value escaped.
 * @module
 */
import { formatRelative, formatTime } from "../format.js";
import type { CookieFact } from "./cookie-facts.js";

/** A device in "your sessions". */
export interface DeviceView {
  id: string;
  device: string;
  ip: string;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  current: boolean;
}

/** Everything the page shows. */
export interface PageView {
  user: string | null;
  remember: boolean;
  count: number;
  /** The session's CSRF token, sent back in every form; null before anything is stored. */
  csrf: string | null;
  devices: DeviceView[];
  cookie: CookieFact[];
  notice: { text: string; error: boolean } | null;
  /** "PGlite (./.pgsession)" or "PostgreSQL". */
  database: string;
  /** The stored session's public id, its idle expiry and its absolute one; null before it is stored. */
  stored: { id: string; expiresAt: Date; absoluteExpiresAt: Date; remember: boolean } | null;
  now: Date;
}

/**
 * Escapes text for HTML content and quoted attribute values.
 *
 * @example
 * ```ts
 * escapeHtml('<b a="1">'); // "&lt;b a=&quot;1&quot;&gt;"
 * ```
 */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

const e = escapeHtml;

function time(date: Date, now: Date): string {
  return `<time datetime="${formatTime(date)}" title="${formatTime(date)}">${e(formatRelative(date, now))}</time>`;
}

function form(action: string, csrf: string | null, body: string, extra: Record<string, string> = {}): string {
  const hidden = Object.entries({ ...(csrf !== null && { csrf }), ...extra })
    .map(([name, value]) => `<input type="hidden" name="${e(name)}" value="${e(value)}">`)
    .join("");
  return `<form method="post" action="${e(action)}">${hidden}${body}</form>`;
}

function signInCard(view: PageView): string {
  if (view.user === null) {
    return `<section class="card" id="account"><h2>Sign in</h2>
      ${form(
        "/login",
        view.csrf,
        `
        <label for="name">Your name</label>
        <input type="text" id="name" name="name" maxlength="40" required autocomplete="username" placeholder="any name will do">
        <label class="check"><input type="checkbox" name="remember" value="1"> Remember me on this device</label>
        <button type="submit">Sign in</button>`,
      )}
      <p class="muted">A demo: no password. Signing in rotates the session token, so a token planted before login is useless after it.</p>
    </section>`;
  }
  return `<section class="card" id="account"><h2>Signed in</h2>
    <div class="who"><div class="avatar">${e(view.user.slice(0, 1).toUpperCase())}</div>
      <div><strong id="user">${e(view.user)}</strong>
      <span class="pill">${view.remember ? "remember me: persistent cookie" : "browser session"}</span></div></div>
    ${form("/logout", view.csrf, `<button type="submit" class="danger" id="sign-out">Sign out</button>`)}
    <p class="muted">Signing out deletes the session's row, so its token stops working everywhere.</p>
  </section>`;
}

function counterCard(view: PageView): string {
  return `<section class="card" id="counter-card"><h2>Counter</h2>
    <div class="counter"><span class="count" id="count">${view.count}</span>
      ${form("/count", view.csrf, `<button type="submit" id="increment">+1</button>`)}</div>
    <p class="muted">Kept in the session's <code>jsonb</code> data: a click writes only the changed key, and a page view writes nothing.</p>
  </section>`;
}

function devicesCard(view: PageView): string {
  if (view.user === null) return "";
  const rows = view.devices
    .map(
      (d) => `<tr class="${d.current ? "current" : "other"}" data-session="${e(d.id)}">
      <td class="device"><strong>${e(d.device)}</strong>${d.current ? `<span class="pill this">this device</span>` : ""}</td>
      <td data-label="IP">${e(d.ip)}</td><td data-label="Signed in">${time(d.createdAt, view.now)}</td>
      <td data-label="Last seen">${time(d.lastSeenAt, view.now)}</td><td data-label="Expires">${time(d.expiresAt, view.now)}</td>
      <td class="action">${
        d.current
          ? form("/logout", view.csrf, `<button type="submit" class="small ghost">Sign out this device</button>`)
          : form("/revoke", view.csrf, `<button type="submit" class="small danger">Sign out that device</button>`, { id: d.id })
      }</td>
    </tr>`,
    )
    .join("");
  const others = view.devices.filter((d) => !d.current).length;
  return `<section class="card wide" id="sessions"><h2>Your sessions (${view.devices.length})</h2>
    <table><thead><tr><th>Device</th><th>IP</th><th>Signed in</th><th>Last seen</th><th>Expires</th><th></th></tr></thead>
    <tbody>${rows}</tbody></table>
    <div class="actions">${
      others > 0
        ? form(
            "/revoke-others",
            view.csrf,
            `<button type="submit" class="danger" id="sign-out-others">Sign out all other devices (${others})</button>`,
          )
        : `<span class="muted">Sign in as ${e(view.user)} in another browser (or a private window) to see a second device here.</span>`
    }</div>
    <p class="muted">"Last seen" moves at most once per <code>touchAfter</code>, so most requests cause no write at all.</p>
  </section>`;
}

function cookieCard(view: PageView): string {
  const facts = view.cookie
    .map((f) => `<div><dt>${e(f.name)}</dt><dd class="value"><code>${e(f.value)}</code></dd><dd>${e(f.why)}</dd></div>`)
    .join("");
  const s = view.stored;
  const stored = s
    ? `Public id <code>${e(s.id)}</code>. The session ends ${time(s.expiresAt, view.now)} if this browser stops using it, ` +
      `and ${time(s.absoluteExpiresAt, view.now)} at the latest${s.remember ? " (remember me)" : ""}. ` +
      "The public id names the session in lists; only the cookie's token can act as it."
    : "No session is stored for this browser yet: pgsession writes one only when it has data or a user.";
  return `<section class="card wide" id="cookie"><h2>The session cookie</h2>
    <dl class="facts">${facts}</dl>
    <p class="muted">${stored}</p>
  </section>`;
}

/**
 * Renders the whole page.
 *
 * @example
 * ```ts
 * res.end(renderPage(view));
 * ```
 */
export function renderPage(view: PageView): string {
  const notice = view.notice
    ? `<div class="notice${view.notice.error ? " error" : ""}" role="status">${e(view.notice.text)}` +
      `<small>Shown once: the form left this message in your session, and this page view deleted it.</small></div>`
    : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>pgsession demo</title><link rel="stylesheet" href="/style.css"></head>
<body>
<header><div class="wrap"><h1><span class="logo">pg</span>pgsession demo</h1>
<p>Server-side sessions in ${e(view.database)}: hashed tokens, one round trip per request, revocable per device.</p></div></header>
<main class="wrap">${notice}${signInCard(view)}${counterCard(view)}${devicesCard(view)}${cookieCard(view)}</main>
<footer>Works without JavaScript: plain forms, POST then redirect. Every form is checked against cross-site forgery
(Sec-Fetch-Site or Origin, plus a per-session token).</footer>
</body></html>`;
}
