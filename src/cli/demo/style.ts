/**
 * The demo page's stylesheet, served as /style.css (the page allows no inline styles).
 * @module
 */

/** CSS of the demo page. */
export const STYLESHEET = `
:root {
  --bg: #f4f5f9; --card: #fff; --ink: #1d2433; --muted: #5d6678; --line: #e3e6ee;
  --accent: #3355d6; --accent-ink: #fff; --accent-soft: #e9eefc; --danger: #c2372f; --ok: #1d7a4d;
  color-scheme: light;
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header { background: linear-gradient(120deg, #1f2d6b, #3355d6); color: #fff; padding: 28px 0 64px; }
header .wrap { display: flex; align-items: baseline; gap: 14px; flex-wrap: wrap; }
header h1 { margin: 0; font-size: 26px; letter-spacing: -0.01em; }
header p { margin: 0; opacity: .85; }
.logo { display: inline-block; width: 36px; height: 36px; line-height: 34px; text-align: center; border-radius: 9px;
  background: rgba(255,255,255,.18); font-size: 16px; font-weight: 700; margin-right: 10px; vertical-align: 3px; }
.wrap { max-width: 980px; margin: 0 auto; padding: 0 20px; }
main.wrap { margin-top: -44px; display: grid; gap: 18px; grid-template-columns: 1fr 1fr; padding-bottom: 40px; }
.card { background: var(--card); border-radius: 14px; padding: 20px 22px; box-shadow: 0 1px 2px rgba(20,30,60,.06), 0 8px 24px rgba(20,30,60,.06); }
.card.wide { grid-column: 1 / -1; }
.card h2 { margin: 0 0 12px; font-size: 16px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); }
.notice { grid-column: 1 / -1; background: #e7f6ee; color: var(--ok); border-radius: 10px; padding: 10px 16px; font-weight: 600;
  box-shadow: 0 1px 2px rgba(20,30,60,.06), 0 8px 24px rgba(20,30,60,.06); }
.notice small { display: block; font-weight: 400; font-size: 12.5px; opacity: .85; }
.notice.error { background: #fdecea; color: var(--danger); }
form { margin: 0; }
label { display: block; font-weight: 600; margin-bottom: 6px; }
input[type=text] { width: 100%; padding: 10px 12px; border: 1px solid var(--line); border-radius: 9px; font: inherit; }
input[type=text]:focus { outline: 2px solid var(--accent); border-color: transparent; }
.check { display: flex; align-items: center; gap: 8px; font-weight: 400; margin: 12px 0 16px; }
button { font: inherit; font-weight: 600; border: 0; border-radius: 9px; padding: 9px 16px; cursor: pointer;
  background: var(--accent); color: var(--accent-ink); }
button:hover { filter: brightness(1.08); }
button.ghost { background: var(--accent-soft); color: var(--accent); }
button.danger { background: #fdecea; color: var(--danger); }
button.small { padding: 5px 10px; font-size: 13px; white-space: nowrap; }
.who { display: flex; align-items: center; gap: 14px; margin-bottom: 14px; }
.avatar { width: 48px; height: 48px; border-radius: 50%; background: var(--accent-soft); color: var(--accent);
  display: grid; place-items: center; font-size: 20px; font-weight: 700; }
.who strong { font-size: 20px; display: block; }
.pill { display: inline-block; font-size: 12px; font-weight: 600; border-radius: 99px; padding: 2px 9px;
  background: var(--accent-soft); color: var(--accent); }
.pill.this { background: #e7f6ee; color: var(--ok); white-space: nowrap; }
.counter { display: flex; align-items: center; gap: 18px; }
.count { font-size: 54px; font-weight: 700; line-height: 1; min-width: 70px; font-variant-numeric: tabular-nums; }
.muted { color: var(--muted); font-size: 13.5px; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: 9px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); font-weight: 600; }
tr.current, tr.current td { background: #f7fbf9; }
td.device strong { display: block; }
.actions { display: flex; gap: 10px; margin-top: 14px; flex-wrap: wrap; }
code { font: 13px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #f0f2f7; padding: 1px 5px; border-radius: 5px; }
dl.facts { display: grid; grid-template-columns: 130px 190px 1fr; margin: 0; }
dl.facts > div { display: contents; }
dl.facts dt, dl.facts dd { margin: 0; padding: 8px 6px; border-bottom: 1px solid var(--line); }
dl.facts dt { font-weight: 600; }
footer { text-align: center; color: var(--muted); font-size: 13px; padding: 0 20px 30px; }
@media (max-width: 760px) {
  main.wrap { grid-template-columns: 1fr; }
  dl.facts { grid-template-columns: 1fr; }
  dl.facts dd.value { border-bottom: 0; padding-top: 0; }
  /* Too narrow for six columns: each session becomes a block of labelled lines. */
  #sessions thead { display: none; }
  #sessions table, #sessions tbody, #sessions tr, #sessions td { display: block; }
  #sessions tr { padding: 10px 8px; border-bottom: 1px solid var(--line); }
  #sessions td { border: 0; padding: 1px 0; }
  #sessions td[data-label]::before { content: attr(data-label) ": "; color: var(--muted); }
  #sessions td.action { padding-top: 8px; }
}
`;
