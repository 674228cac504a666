// The event storm (issue 13): N visitors arriving over T seconds (Poisson) at an ephemeral nodehub (tmp users, shared
// password), each a scripted browser that reaches a server, runs a cell over the kernel websocket and keeps it open
// through a soak, running a cell now and then; a tenth come back by the same link, a tenth arrive by an nbgitpuller
// link. At the end every visitor's kernel must still answer. See bench/README.md for the flags and what is missing.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { NODEHUB_CLI, NODEHUB_NODE } from './nodehub.ts';
import { freePort } from './lib/ports.ts';
import { percentile } from './lib/stats.ts';
import { StormVisitor, type VisitorResult } from './storm/visitor.ts';

const { values: flags } = parseArgs({
  options: {
    visitors: { type: 'string', default: '1000' },
    over: { type: 'string', default: '120' },
    soak: { type: 'string', default: '600' },
    'soak-cell-every': { type: 'string', default: '60' },
    pool: { type: 'string', default: '0' },
    limit: { type: 'string', default: '0' },
    'spawn-limit': { type: 'string', default: '0' },
    'kill-at': { type: 'string', default: '0' },
    server: { type: 'string', default: 'mock' },
  },
});
const N = Number(flags.visitors);
const T = Number(flags.over) * 1000;
const SOAK = Number(flags.soak) * 1000;
const KILL_AT = Number(flags['kill-at']) * 1000;
const MOCK = new URL('../test/support/mock-singleuser.mjs', import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const dir = mkdtempSync(join(tmpdir(), 'nodehub-storm-'));
const port = await freePort();
const origin = `http://127.0.0.1:${port}`;
const password = 'storm-password';
const config = {
  JupyterHub: {
    ip: '127.0.0.1', port, db_url: `sqlite:///${join(dir, 'nodehub.sqlite')}`, cookie_secret_file: join(dir, 'cookie_secret'),
    authenticator_class: 'tmp', active_server_limit: Number(flags.limit), concurrent_spawn_limit: Number(flags['spawn-limit']),
    log_level: 'WARN',
  },
  IdleCuller: { enabled: false },
  Spawner: {
    cmd: flags.server === 'real' ? ['/usr/bin/jupyterhub-singleuser'] : [NODEHUB_NODE, MOCK],
    pool_size: Number(flags.pool), http_timeout: 120, start_timeout: 120,
    ...(flags.server === 'real' ? { environment: { JUPYTERHUB_SINGLEUSER_APP: 'notebook.notebookapp.NotebookApp' } } : {}),
  },
  LocalProcessSpawner: { home_dir_template: join(dir, 'home', '{username}'), uid_range: null, allow_unisolated: true },
};
const configFile = join(dir, 'nodehub.yaml');
writeFileSync(configFile, stringify(config));

let hub: ChildProcess;
function startHub(): ChildProcess {
  const child = spawn(NODEHUB_NODE, [NODEHUB_CLI, '-f', configFile], {
    cwd: dir, env: { PATH: process.env.PATH, HOME: dir, LANG: 'C.UTF-8', NODEHUB_SHARED_PASSWORD: password }, stdio: ['ignore', 'inherit', 'inherit'],
  });
  return child;
}
async function hubUp(): Promise<void> {
  for (;;) {
    try {
      if ((await fetch(`${origin}/hub/health`)).ok) return;
    } catch { /* not yet */ }
    await sleep(50);
  }
}

// CPU and RSS of the hub process over time
const samples: { t: number; cpuPct: number; rssMiB: number }[] = [];
let lastCpu = 0;
let lastT = 0;
const t0 = Date.now();
const sampler = setInterval(() => {
  try {
    const stat = readFileSync(`/proc/${hub.pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpu = (Number(f[11]) + Number(f[12])) * 10; // clock ticks of 10 ms
    const rss = Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${hub.pid}/status`, 'utf8'))![1]) / 1024;
    const now = Date.now();
    if (lastT) samples.push({ t: (now - t0) / 1000, cpuPct: ((cpu - lastCpu) / (now - lastT)) * 100, rssMiB: rss });
    lastCpu = cpu;
    lastT = now;
  } catch { /* restarting */ }
}, 2000);

hub = startHub();
await hubUp();
let outageUntil = 0;
if (KILL_AT) {
  setTimeout(() => {
    outageUntil = Date.now() + 60_000;
    hub.kill('SIGKILL');
    lastT = 0;
    setTimeout(() => {
      hub = startHub();
      void hubUp().then(() => (outageUntil = Date.now() + 2000));
    }, 2000);
  }, KILL_AT);
}

// Poisson arrivals: exponential gaps with mean T/N
const arrivals: number[] = [];
for (let t = 0, i = 0; i < N; i++) {
  t += -Math.log(1 - Math.random()) * (T / N);
  arrivals.push(t);
}
const visitors = arrivals.map((_, id) => new StormVisitor({
  id, origin, password,
  link: id % 10 === 1 ? `/hub/user-redirect/git-pull?repo=${encodeURIComponent('https://example.org/storm.git')}&urlpath=tree/` : '/hub/',
  returns: id % 10 === 2,
  outageUntil: () => outageUntil,
}));
const start = Date.now();
await Promise.all(visitors.map(async (v, i) => {
  await sleep(arrivals[i]! - (Date.now() - start));
  await v.arrive();
}));
console.error(`all ${N} visitors arrived and ran a cell after ${((Date.now() - start) / 1000).toFixed(1)} s; soaking ${SOAK / 1000} s`);
const soakEnd = Date.now() + SOAK;
while (Date.now() < soakEnd) {
  const every = Number(flags['soak-cell-every']) * 1000;
  await sleep(Math.min(every, soakEnd - Date.now()));
  await Promise.all(visitors.filter(() => Math.random() < 0.3).map((v) => v.soakCell()));
}
// after the soak, every visitor's kernel must still answer
await Promise.all(visitors.map((v) => v.soakCell()));
clearInterval(sampler);
for (const v of visitors) v.end();

// ----- report
const results: VisitorResult[] = visitors.map((v) => v.result);
const times = results.map((r) => r.firstOutputMs).filter((x): x is number => x !== null);
const failed = results.filter((r) => r.errors.length);
const duringOutage = KILL_AT ? results.filter((r) => r.arrived - start >= KILL_AT && r.arrived - start <= KILL_AT + 2000 + 5000) : [];
// fairness: someone who arrived later left the queue before someone who arrived earlier
const queued = results.filter((r) => r.queued && r.leftQueue !== null).sort((a, b) => a.arrived - b.arrived);
let overtaken = 0;
for (let i = 0; i < queued.length; i++) {
  for (let j = i + 1; j < queued.length; j++) if (queued[j]!.leftQueue! < queued[i]!.leftQueue! - 1000) { overtaken++; break; }
}
const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
console.log(`\n## Storm: ${N} visitors over ${T / 1000} s, soak ${SOAK / 1000} s, ${flags.server} servers, pool ${flags.pool}, `
  + `active_server_limit ${flags.limit}, concurrent_spawn_limit ${flags['spawn-limit']}${KILL_AT ? `, hub SIGKILLed at ${KILL_AT / 1000} s` : ''}\n`);
console.log('| figure | value |\n| --- | ---: |');
console.log(`| first request → cell output p50 / p95 / max | ${fmt(percentile(times, 50))} / ${fmt(percentile(times, 95))} / ${fmt(Math.max(...times))} |`);
if (duringOutage.length) {
  const ot = duringOutage.map((r) => r.firstOutputMs).filter((x): x is number => x !== null);
  console.log(`| visitors arriving during the outage: n / p95 | ${duringOutage.length} / ${ot.length ? fmt(percentile(ot, 95)) : 'n/a'} |`);
}
console.log(`| visitors with a failure | ${failed.length} |`);
console.log(`| queued / overtaken by a later arrival (>1 s) | ${queued.length} / ${overtaken} |`);
console.log(`| websocket reconnects | ${results.reduce((a, r) => a + r.reconnects, 0)} |`);
console.log(`| kernels answering after the soak | ${results.filter((r) => r.firstOutputMs !== null && !r.errors.some((e) => e.startsWith('soak'))).length} of ${N} |`);
console.log(`| hub CPU peak / mean, RSS peak | ${Math.max(...samples.map((s) => s.cpuPct)).toFixed(0)} % / ${(samples.reduce((a, s) => a + s.cpuPct, 0) / samples.length).toFixed(0)} % , ${Math.max(...samples.map((s) => s.rssMiB)).toFixed(0)} MiB |`);
const errorKinds = new Map<string, number>();
for (const r of failed) for (const e of r.errors) errorKinds.set(e.replace(/[0-9a-f-]{36}/g, '<user>'), (errorKinds.get(e) ?? 0) + 1);
for (const [e, n] of [...errorKinds].sort((a, b) => b[1] - a[1]).slice(0, 10)) console.log(`- ${n}× ${e}`);
console.log('\nhub CPU % and RSS MiB over time (every ~10 s):');
console.log(samples.filter((_, i) => i % 5 === 0).map((s) => `${s.t.toFixed(0)}s ${s.cpuPct.toFixed(0)}% ${s.rssMiB.toFixed(0)}M`).join(' · '));

hub.kill('SIGTERM');
await new Promise((r) => hub.once('exit', r));
rmSync(dir, { recursive: true, force: true });
process.exit(0);
