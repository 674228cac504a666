// One storm against one hub: Poisson arrivals, scripted visitors and a Chromium sample, the hub killed and restarted
// in the middle if asked, the soak with a cell now and then, a last cell for everyone, and the hub's CPU and RSS every
// 2 s. Returns what the report needs.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join, sep } from 'node:path';
import type { Browser } from 'playwright-core';
import { ChromiumVisitor } from './chromium.ts';
import type { StormHub } from './targets.ts';
import { StormVisitor, type VisitorPlan, type VisitorResult } from './visitor.ts';

export interface StormOptions {
  visitors: number;
  overMs: number;
  soakMs: number;
  soakCellEveryMs: number;
  killAtMs: number;
  deadlineMs: number;
  chromium: number;
  browser: Browser | null;
  nbgitpullerRepo: string;
  /** Called once the first visitor is due (the Kubernetes variant starts its node clock here). */
  onStart?: () => void;
}

export interface Sample { t: number; cpuPct: number; rssMiB: number }
export interface StormRun {
  hub: string;
  results: VisitorResult[];
  chromiumIds: Set<number>;
  start: number;
  allArrivedS: number;
  samples: Sample[];
  rssAfterMiB: number;
  /** Server processes of users the hub shows no running server for, at the end (before the hub stops). */
  orphans: number;
  outage: { from: number; to: number } | null;
  loadavg: string;
  /** The hub's warnings and errors, names and numbers taken out, with how often each came. */
  hubLog: Array<[string, number]>;
}

function summarizeLog(path: string): Array<[string, number]> {
  let text = '';
  try { text = readFileSync(path, 'utf8'); } catch { return []; }
  const kinds = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^\[([WE]) [^\]]*\]\s*(.*)$/.exec(line);
    if (!m) continue;
    const msg = `${m[1]} ${m[2]!.replace(/[0-9a-f]{8}-[0-9a-f-]{27}|storm-\d+/g, '<user>').replace(/\d+(\.\d+)?/g, 'N').slice(0, 200)}`;
    kinds.set(msg, (kinds.get(msg) ?? 0) + 1);
  }
  return [...kinds].sort((a, b) => b[1] - a[1]).slice(0, 8);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function procCpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}
function procRssMiB(pid: number): number {
  return Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

/** When the hub began each user's default server (its API's `started`): the hub's own order of starting spawns, which
 *  the queue's fairness is judged by (a visitor's page sees the start only at its next reload, up to a second later and
 *  more when the visitors' own process lags). */
async function spawnStarts(hub: StormHub): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (let offset = 0; ; offset += 200) {
    const res = await fetch(`${hub.origin}/hub/api/users?limit=200&offset=${offset}`, { headers: { authorization: `token ${hub.token}` } });
    const page = (await res.json()) as Array<{ name: string; servers?: Record<string, { started?: string | null }> }>;
    for (const u of page) {
      const started = u.servers?.['']?.started;
      if (started) out.set(u.name, Date.parse(started));
    }
    if (page.length < 200) break;
  }
  return out;
}

/** Users who have a process under <hub dir>/home/<user> but no running server in the hub's API. */
async function countOrphans(hub: StormHub): Promise<number> {
  const running = new Set<string>();
  for (let offset = 0; ; offset += 200) {
    const res = await fetch(`${hub.origin}/hub/api/users?limit=200&offset=${offset}`, { headers: { authorization: `token ${hub.token}` } });
    const page = (await res.json()) as Array<{ name: string; servers?: Record<string, unknown>; server?: string | null }>;
    for (const u of page) if (u.server || Object.keys(u.servers ?? {}).length) running.add(u.name);
    if (page.length < 200) break;
  }
  const homes = `${hub.dir}${sep}home${sep}`;
  const owners = new Set<string>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const cwd = readlinkSync(`/proc/${e}/cwd`);
      if (cwd.startsWith(homes)) owners.add(decodeURIComponent(cwd.slice(homes.length).split(sep)[0]!));
    } catch { /* gone */ }
  }
  return [...owners].filter((u) => !running.has(u)).length;
}

/** For visitors whose own server answered an error: the last error line of that server's log (nodehub keeps it in
 *  the user's home as .nodehub-server.log; JupyterHub's servers log to the hub's log, already summarized). */
function serverErrors(hub: StormHub, results: VisitorResult[]): Array<[string, number]> {
  const kinds = new Map<string, number>();
  for (const r of results) {
    if (!r.user || !r.errors.some((e) => /at \/user\//.test(e))) continue;
    let text = '';
    try { text = readFileSync(`${hub.dir}/home/${r.user}/.nodehub-server.log`, 'utf8'); } catch { continue; }
    const line = text.split('\n').filter((l) => /^\[E |Error|Timeout/.test(l)).pop();
    if (!line) continue;
    const msg = `server log: ${line.replace(/^\[E [^\]]*\]\s*/, '').replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, '<user>').replace(/\d+(\.\d+)?/g, 'N').slice(0, 200)}`;
    kinds.set(msg, (kinds.get(msg) ?? 0) + 1);
  }
  return [...kinds].sort((a, b) => b[1] - a[1]).slice(0, 5);
}

export async function runStorm(hub: StormHub, o: StormOptions): Promise<StormRun> {
  const samples: Sample[] = [];
  let last: { cpu: number; t: number } | null = null;
  const t0 = Date.now();
  const sampler = setInterval(() => {
    try {
      const pids = hub.pids();
      const cpu = pids.reduce((a, p) => a + procCpuMs(p), 0);
      const rss = pids.reduce((a, p) => a + procRssMiB(p), 0);
      const now = Date.now();
      if (last) samples.push({ t: (now - t0) / 1000, cpuPct: ((cpu - last.cpu) / (now - last.t)) * 100, rssMiB: rss });
      last = { cpu, t: now };
    } catch {
      last = null; // the hub is being restarted
    }
  }, 2000);

  let outageUntil = 0;
  let outage: StormRun['outage'] = null;
  const start = Date.now();
  if (o.killAtMs) {
    setTimeout(() => {
      outageUntil = Date.now() + 120_000;
      outage = { from: Date.now(), to: 0 };
      hub.kill();
      setTimeout(() => void hub.restart().then(() => {
        outage!.to = Date.now();
        outageUntil = Date.now() + 2000;
      }), 2000);
    }, o.killAtMs);
  }
  // Poisson arrivals: exponential gaps with mean T/N
  const arrivals: number[] = [];
  for (let t = 0, i = 0; i < o.visitors; i++) {
    t += -Math.log(1 - Math.random()) * (o.overMs / o.visitors);
    arrivals.push(t);
  }
  const every = o.chromium ? Math.max(1, Math.floor(o.visitors / o.chromium)) : 0;
  const chromiumIds = new Set<number>();
  const visitors = arrivals.map((_, id) => {
    const plan: VisitorPlan = {
      id, origin: hub.origin, password: hub.password, login: hub.login, deadlineMs: o.deadlineMs,
      link: id % 10 === 1 ? `/hub/user-redirect/git-pull?repo=${encodeURIComponent(o.nbgitpullerRepo)}&urlpath=tree/` : '/hub/',
      returns: id % 10 === 2,
      outageUntil: () => outageUntil,
      outageFrom: () => (outage as StormRun['outage'])?.from ?? null,
    };
    if (o.browser && every && id % every === every - 1 && chromiumIds.size < o.chromium) {
      chromiumIds.add(id);
      return new ChromiumVisitor(o.browser, plan);
    }
    return new StormVisitor(plan);
  });
  o.onStart?.();
  await Promise.all(visitors.map(async (v, i) => {
    await sleep(Math.max(0, arrivals[i]! - (Date.now() - start)));
    await v.arrive();
  }));
  const allArrivedS = (Date.now() - start) / 1000;
  process.stderr.write(`${hub.name}: all ${o.visitors} visitors through their first cell after ${allArrivedS.toFixed(1)} s; soaking ${o.soakMs / 1000} s\n`);
  const soakEnd = Date.now() + o.soakMs;
  while (Date.now() < soakEnd) {
    await sleep(Math.min(o.soakCellEveryMs, soakEnd - Date.now()));
    await Promise.all(visitors.filter(() => Math.random() < 0.3).map((v) => v.soakCell()));
  }
  // after the soak, every visitor's kernel must still answer
  await Promise.all(visitors.map((v) => v.soakCell()));
  clearInterval(sampler);
  let rssAfterMiB = NaN;
  try { rssAfterMiB = hub.pids().reduce((a, p) => a + procRssMiB(p), 0); } catch { /* gone */ }
  // the servers' logs go with their homes when the hub stops them: keep those of visitors who failed
  for (const r of visitors.map((v) => v.result).filter((x) => x.errors.length && x.user)) {
    try { mkdirSync(join(hub.dir, 'failed-logs'), { recursive: true }); copyFileSync(join(hub.dir, 'home', r.user!, '.nodehub-server.log'), join(hub.dir, 'failed-logs', `${r.user}.log`)); } catch { /* a mock, or JupyterHub's */ }
  }
  const orphans = await countOrphans(hub).catch(() => -1);
  const starts = await spawnStarts(hub).catch(() => new Map<string, number>());
  for (const v of visitors) v.result.spawnStarted = v.result.user ? starts.get(v.result.user) ?? null : null;
  await Promise.all(visitors.map((v) => v.end()));
  return {
    hub: hub.name, results: visitors.map((v) => v.result), chromiumIds, start, allArrivedS, samples, rssAfterMiB, orphans, outage,
    loadavg: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
    hubLog: [...summarizeLog(hub.logPath), ...serverErrors(hub, visitors.map((v) => v.result))],
  };
}
