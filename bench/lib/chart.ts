/**
 * The chart of the report: requests/s per scenario and server as grouped bars with
 * min–max whiskers, as a self-contained SVG (no dependencies).
 * @module
 */

/** One bar: a server's median and spread in one scenario. */
export interface Bar {
  server: string;
  median: number;
  min: number;
  max: number;
}

const COLORS: Record<string, string> = {
  "pgsession-node": "#1b5e20",
  "pgsession-express": "#43a047",
  "pgsession-fastify": "#81c784",
  "floor-node": "#37474f",
  "floor-express": "#78909c",
  "floor-fastify": "#b0bec5",
  "pgsession-koa": "#00695c",
  "floor-koa": "#546e7a",
  "pgsession-h3": "#4db6ac",
  "floor-h3": "#90a4ae",
  "express-session": "#c62828",
  "fastify-session": "#ef6c00",
};

const escape = (text: string) => text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");

function niceStep(max: number): number {
  const raw = max / 6;
  const power = 10 ** Math.floor(Math.log10(raw));
  return ([1, 2, 2.5, 5, 10].find((m) => m * power >= raw) ?? 10) * power;
}

/**
 * Renders grouped bars: one group per scenario, one bar per server, and the footnote below
 * them (one line per "\n" in it).
 *
 * @example
 * ```ts
 * writeFileSync("chart.svg", renderChart("Requests/s", { read: [{ server: "floor-node", median: 5000, min: 4800, max: 5100 }] }, "note"));
 * ```
 */
export function renderChart(title: string, groups: Record<string, Bar[]>, footnote: string): string {
  const width = 980;
  const height = 520;
  const left = 70;
  const right = 200;
  const top = 50;
  const bottom = 70;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const names = Object.keys(groups);
  const max = Math.max(
    1,
    ...Object.values(groups)
      .flat()
      .map((b) => b.max),
  );
  const step = niceStep(max);
  const yMax = Math.ceil(max / step) * step;
  const y = (value: number) => top + plotH - (value / yMax) * plotH;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${left}" y="28" font-size="16" font-weight="bold">${escape(title)}</text>`,
  ];
  for (let v = 0; v <= yMax + 1e-9; v += step) {
    out.push(
      `<line x1="${left}" x2="${left + plotW}" y1="${y(v)}" y2="${y(v)}" stroke="#e0e0e0"/>`,
      `<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${Math.round(v).toLocaleString("en-US")}</text>`,
    );
  }
  const groupW = plotW / Math.max(1, names.length);
  const servers = [
    ...new Set(
      Object.values(groups)
        .flat()
        .map((b) => b.server),
    ),
  ];
  names.forEach((name, g) => {
    const bars = groups[name] ?? [];
    const barW = (groupW * 0.8) / Math.max(1, servers.length);
    const x0 = left + g * groupW + groupW * 0.1;
    for (const bar of bars) {
      const x = x0 + servers.indexOf(bar.server) * barW;
      const color = COLORS[bar.server] ?? "#888";
      out.push(
        `<rect x="${x.toFixed(1)}" y="${y(bar.median).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(top + plotH - y(bar.median)).toFixed(1)}" fill="${color}"><title>${escape(`${bar.server} ${name}: ${Math.round(bar.median)} req/s (${Math.round(bar.min)}–${Math.round(bar.max)})`)}</title></rect>`,
      );
      const cx = (x + (barW - 2) / 2).toFixed(1);
      out.push(`<line x1="${cx}" x2="${cx}" y1="${y(bar.min).toFixed(1)}" y2="${y(bar.max).toFixed(1)}" stroke="#000" stroke-width="1"/>`);
    }
    out.push(
      `<text x="${(left + g * groupW + groupW / 2).toFixed(1)}" y="${top + plotH + 22}" text-anchor="middle" font-size="14">/${escape(name)}</text>`,
    );
  });
  out.push(
    `<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotH}" stroke="#000"/>`,
    `<line x1="${left}" x2="${left + plotW}" y1="${top + plotH}" y2="${top + plotH}" stroke="#000"/>`,
    `<text x="16" y="${top + plotH / 2}" transform="rotate(-90 16 ${top + plotH / 2})" text-anchor="middle">requests/s (median, whiskers min–max)</text>`,
  );
  servers.forEach((server, i) => {
    const ly = top + 10 + i * 22;
    out.push(
      `<rect x="${left + plotW + 20}" y="${ly - 10}" width="14" height="14" fill="${COLORS[server] ?? "#888"}"/>`,
      `<text x="${left + plotW + 40}" y="${ly + 1}">${escape(server)}</text>`,
    );
  });
  // One text line per footnote line ("\n"), 15 px apart, kept clear of the axis labels above them.
  const notes = footnote.split("\n");
  const firstY = height - 18 - 7 * (notes.length - 1);
  notes.forEach((note, i) => out.push(`<text x="${left}" y="${firstY + 15 * i}" fill="#555">${escape(note)}</text>`));
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
