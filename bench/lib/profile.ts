/**
 * Reading a V8 CPU profile (`node --cpu-prof`): self time per function and per origin
 * (the library's src/, dependencies, Node internals, garbage collection).
 * @module
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Self time of one function. */
export interface HotFunction {
  name: string;
  /** Where it is: `src/...:line` for the library, `node_modules/<pkg>/...`, `node:...`. */
  location: string;
  selfMs: number;
  /** Share of the busy (non-idle) time. */
  share: number;
  /** Self time per request, in microseconds. */
  usPerRequest: number;
}

/** A profile's summary. */
export interface ProfileSummary {
  requests: number;
  busyMs: number;
  /** Busy CPU time per request, in microseconds. */
  busyUsPerRequest: number;
  /** Self time per request by origin: src, bench, dependencies, node, gc, other. */
  byOrigin: Record<string, number>;
  top: HotFunction[];
  /** The library's own functions (src/), most expensive first. */
  library: HotFunction[];
}

function shorten(url: string): string {
  if (!url) return "";
  for (const marker of ["/node_modules/", "/src/", "/bench/"]) {
    const at = url.lastIndexOf(marker);
    if (at >= 0) return url.slice(at + 1);
  }
  return url.replace(/^file:\/\//, "");
}

function originOf(name: string, location: string): string {
  if (name === "(garbage collector)") return "gc";
  if (location.startsWith("src/")) return "src";
  if (location.startsWith("bench/")) return "bench";
  if (location.startsWith("node_modules/")) return `dependencies`;
  if (location.startsWith("node:") || name.startsWith("(")) return "node";
  return "node";
}

/**
 * Summarizes a `.cpuprofile` over `requests` requests, counting only the samples inside
 * `window` (monotonic microseconds, as `process.hrtime.bigint() / 1000n` in any process).
 *
 * @example
 * ```ts
 * const summary = summarizeProfile("bench/results/profiles/read.cpuprofile", 40_000);
 * ```
 */
export function summarizeProfile(
  file: string,
  requests: number,
  window: { startUs: number; endUs: number } | null = null,
  topCount = 15,
): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<string, { name: string; location: string; us: number }>();
  let busyUs = 0;
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i] as number);
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    // Profile times are CLOCK_MONOTONIC microseconds, the clock of process.hrtime in any process.
    if (window && (at < window.startUs || at > window.endUs)) continue;
    if (!node || node.callFrame.functionName === "(idle)" || node.callFrame.functionName === "(program)") continue;
    const location = shorten(node.callFrame.url);
    const name = node.callFrame.functionName || "(anonymous)";
    const key = `${name}@${location}:${node.callFrame.lineNumber + 1}`;
    const entry = selfUs.get(key) ?? { name, location: location ? `${location}:${node.callFrame.lineNumber + 1}` : name, us: 0 };
    entry.us += delta;
    selfUs.set(key, entry);
    busyUs += delta;
  }
  const byOrigin: Record<string, number> = {};
  const all: HotFunction[] = [...selfUs.values()]
    .map((e) => ({
      name: e.name,
      location: e.location,
      selfMs: e.us / 1000,
      share: busyUs ? e.us / busyUs : 0,
      usPerRequest: requests ? e.us / requests : 0,
    }))
    .sort((a, b) => b.selfMs - a.selfMs);
  for (const fn of all) {
    const origin = originOf(fn.name, fn.location);
    byOrigin[origin] = (byOrigin[origin] ?? 0) + fn.usPerRequest;
  }
  return {
    requests,
    busyMs: busyUs / 1000,
    busyUsPerRequest: requests ? busyUs / requests : 0,
    byOrigin,
    top: all.slice(0, topCount),
    library: all.filter((fn) => fn.location.startsWith("src/")).slice(0, topCount),
  };
}
