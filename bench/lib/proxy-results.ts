// What the proxy benchmark records per system, and the scenarios it runs: one shape shared by the script that
// measures (bench/proxy.ts) and the one that writes the report (proxy-report.ts).
import { percentile } from './stats.ts';
import { LARGE_BYTES, SMALL_BYTES } from './upstream.ts';
import type { SystemKey } from './proxy-systems.ts';

export interface HttpScenario {
  id: string;
  title: string;
  /** Last path segment the upstream answers on. */
  path: 'small' | '64k';
  conns: number;
  bytes: number;
}

export const HTTP_SCENARIOS: readonly HttpScenario[] = [
  { id: 'small-1', title: `${SMALL_BYTES} B · 1 conn`, path: 'small', conns: 1, bytes: SMALL_BYTES },
  { id: 'small-50', title: `${SMALL_BYTES} B · 50 conns`, path: 'small', conns: 50, bytes: SMALL_BYTES },
  { id: '64k-1', title: '64 KiB · 1 conn', path: '64k', conns: 1, bytes: LARGE_BYTES },
  { id: '64k-50', title: '64 KiB · 50 conns', path: '64k', conns: 50, bytes: LARGE_BYTES },
];

export interface WsScenario {
  id: string;
  title: string;
  clients: number;
}

export const WS_SCENARIOS: readonly WsScenario[] = [
  { id: 'ws-1', title: 'websocket echo · 1 client', clients: 1 },
  { id: 'ws-50', title: 'websocket echo · 50 clients', clients: 50 },
];

/** Rounds of one scenario on one system: a rate per round, and every latency of every round. */
export interface Series {
  rates: number[];
  /** Websocket rows: milliseconds per round-trip, one array per round. */
  latencies: Float64Array[];
  /** HTTP rows (wrk): latency in µs → number of requests, all rounds merged. */
  histogram: Map<number, number>;
  /** Per round: CPU microseconds the proxy process (for direct: the upstream) spent per request or round-trip. */
  cpuPerOp: number[];
  /** Per round: the same for the load generator's process (wrk for HTTP rows, the Node generator for websockets). */
  genCpuPerOp: number[];
  errors: number;
  firstError?: string;
}

export interface IdleResult {
  wanted: number;
  opened: number;
  openFailed: number;
  openMs: number;
  holdMs: number;
  closedWhileHeld: number;
  echoed: number;
  rssBefore: number;
  rssEnd: number;
  rssMax: number;
  error?: string;
}

export interface RoutesOutcome {
  count: number;
  addLatencies: Float64Array;
  addTotalMs: number;
  listLatencies: Float64Array;
  listedRoutes: number;
  listBytes: number;
  rssAfter: number;
  error?: string;
}

export interface SystemResults {
  key: SystemKey;
  label: string;
  available: boolean;
  rssIdle: number;
  rssAfterLoad: number;
  series: Map<string, Series>;
  idle?: IdleResult;
  routes?: RoutesOutcome;
  notes: string[];
}

export function newSeries(): Series {
  return { rates: [], latencies: [], histogram: new Map(), cpuPerOp: [], genCpuPerOp: [], errors: 0 };
}

export function addToHistogram(into: Map<number, number>, from: ReadonlyMap<number, number>): void {
  for (const [us, n] of from) into.set(us, (into.get(us) ?? 0) + n);
}

/** Nearest-rank percentile (as stats.ts's) in ms over every latency of every round; NaN when there is none. */
export function latencyPercentile(s: Series, p: number): number {
  if (s.histogram.size > 0) {
    let total = 0;
    for (const n of s.histogram.values()) total += n;
    const rank = Math.max(1, Math.ceil((p / 100) * total));
    let seen = 0;
    for (const us of [...s.histogram.keys()].sort((a, b) => a - b)) {
      seen += s.histogram.get(us)!;
      if (seen >= rank) return us / 1000;
    }
  }
  const all: number[] = [];
  for (const chunk of s.latencies) for (const v of chunk) all.push(v);
  return all.length ? percentile(all, p) : NaN;
}
