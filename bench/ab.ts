// nodehub against an older checkout of itself, in one run, interleaved (A B A B …) so a busy phase of a shared machine
// hits both alike: start-up to /hub/health on a database of many users, idle RSS, logins per second (form and
// tmplogin) and a wave of mock servers started at once, each with the CPU the hub process used for it (/proc), which a
// loaded machine moves far less than wall time. Each checkout is driven by its own bench helpers (its own
// migrations fill its database), so only the hub differs. Prints medians per measure.
//
//   node_modules/.bin/node bench/ab.ts --old /path/to/old/checkout [--rounds 3] [--users 100000] [--wave 50]
//     [--only startup|work|tmplogin|tmplogin-together]
//   tmplogin: only the temporary-user logins, a quick look at that one figure; tmplogin-together: both checkouts' hubs
//   logged into at the same time, six windows a round (see tmploginsTogether)
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { REPO_ROOT } from './nodehub.ts';
import { readFileSync } from 'node:fs';
import { median } from './lib/stats.ts';

/** CPU milliseconds (user + system) a process has used so far, from /proc; on a loaded machine this moves far less
 *  than wall time does. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

interface Tree {
  label: string;
  startSystem: typeof import('./hub/systems.ts').startSystem;
  load: typeof import('./lib/hub-load.ts');
  populateNodehub: typeof import('./lib/populate.ts').populateNodehub;
  hubRssMiB: typeof import('./lib/rss.ts').hubRssMiB;
  procs: typeof import('./lib/procs.ts');
}

async function tree(label: string, root: string): Promise<Tree> {
  const at = (p: string) => join(root, 'bench', p);
  return {
    label,
    startSystem: (await import(at('hub/systems.ts'))).startSystem,
    load: await import(at('lib/hub-load.ts')),
    populateNodehub: (await import(at('lib/populate.ts'))).populateNodehub,
    hubRssMiB: (await import(at('lib/rss.ts'))).hubRssMiB,
    procs: await import(at('lib/procs.ts')),
  };
}

const loaded: Tree[] = [];
const samples = new Map<string, Map<string, number[]>>();
function add(measure: string, label: string, value: number): void {
  if (!Number.isFinite(value)) return;
  const row = samples.get(measure) ?? new Map<string, number[]>();
  samples.set(measure, row);
  row.set(label, [...(row.get(label) ?? []), value]);
}

async function startup(t: Tree, db: string, launches: number): Promise<void> {
  for (let i = 0; i < launches; i++) {
    const hub = await t.startSystem('nodehub', { dbFile: db, startTimeoutMs: 30_000 });
    add('start-up to first 200 on /hub/health, many users (ms)', t.label, hub.startupMs);
    add('hub CPU used by then (ms)', t.label, cpuMs(hub.process.pid));
    await hub.stop();
  }
}

async function work(t: Tree, wave: number, windowMs: number, round: number): Promise<void> {
  await formAndSpawns(t, wave, windowMs, round);
  await tmplogins(t, windowMs);
}

async function formAndSpawns(t: Tree, wave: number, windowMs: number, round: number): Promise<void> {
  const hub = await t.startSystem('nodehub');
  try {
    await sleep(2_000);
    add('RSS idle after start-up (MiB)', t.label, t.hubRssMiB(hub));
    const c0 = cpuMs(hub.process.pid);
    const form = await t.load.loginRate(hub, 'form', windowMs);
    if (form.failed === 0) add('form logins per second', t.label, form.perSecond);
    if (form.failed === 0) add('hub CPU per form login (ms)', t.label, (cpuMs(hub.process.pid) - c0) / form.logins);
    else process.stderr.write(`${t.label}: ${form.failed} form logins failed: ${form.error}\n`);
    const names = Array.from({ length: wave }, (_, k) => `ab${round}u${k}`);
    await t.load.createUsers(hub, names);
    const c1 = cpuMs(hub.process.pid);
    const w = await t.load.spawnWave(hub, names, 60_000);
    if (w.failed === 0) add(`hub CPU per mock spawn (ms)`, t.label, (cpuMs(hub.process.pid) - c1) / wave);
    if (w.failed === 0) {
      add(`${wave} mock servers: first ready (ms)`, t.label, w.firstMs);
      add(`${wave} mock servers: all ready (ms)`, t.label, w.allMs);
    } else process.stderr.write(`${t.label}: ${w.failed} spawns failed: ${w.error}\n`);
  } finally {
    await hub.stop();
  }
}

async function tmplogins(t: Tree, windowMs: number): Promise<void> {
  const tmp = await t.startSystem('nodehub', { tmp: true });
  try {
    const c2 = cpuMs(tmp.process.pid);
    const logins = await t.load.loginRate(tmp, 'tmplogin', windowMs);
    if (logins.failed === 0) add('tmplogin logins per second', t.label, logins.perSecond);
    if (logins.failed === 0) add('hub CPU per tmplogin (ms)', t.label, (cpuMs(tmp.process.pid) - c2) / logins.logins);
  } finally {
    await tmp.stop();
  }
}

/** Both checkouts' tmp hubs at once, each under its own clients, window after window: the two see the same machine at
 *  the same moment, so a shared machine's swings (other people's jobs) cancel out of the ratio. The first window of a
 *  fresh hub (JIT warm-up) is kept apart from the later ones. */
async function tmploginsTogether(trees: Tree[], windowMs: number, windows: number): Promise<void> {
  const hubs = await Promise.all(trees.map((t) => t.startSystem('nodehub', { tmp: true })));
  try {
    for (let w = 0; w < windows; w++) {
      const c0 = hubs.map((h) => cpuMs(h.process.pid));
      const rates = await Promise.all(hubs.map((h, i) => trees[i]!.load.loginRate(h, 'tmplogin', windowMs)));
      trees.forEach((t, i) => {
        if (rates[i].failed > 0) return;
        const perLogin = (cpuMs(hubs[i]!.process.pid) - c0[i]!) / rates[i].logins;
        add(w === 0 ? 'hub CPU per tmplogin, side by side, first window (ms)' : 'hub CPU per tmplogin, side by side, later windows (ms)', t.label, perLogin);
      });
    }
  } finally {
    await Promise.all(hubs.map((h) => h.stop()));
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      old: { type: 'string' },
      rounds: { type: 'string', default: '3' },
      users: { type: 'string', default: '100000' },
      wave: { type: 'string', default: '50' },
      window: { type: 'string', default: '2000' },
      only: { type: 'string' },
    },
  });
  if (!values.old) throw new Error('--old <checkout> is required');
  const trees = [await tree('old', resolve(values.old)), await tree('new', REPO_ROOT)];
  loaded.push(...trees);
  const rounds = Number(values.rounds);
  const dbs = new Map<Tree, string>();
  const doStartup = !values.only || values.only === 'startup';
  const doWork = !values.only || values.only === 'work';
  const doTmp = values.only === 'tmplogin';
  const doTogether = values.only === 'tmplogin-together';
  if (values.only && !doStartup && !doWork && !doTmp && !doTogether) throw new Error('--only takes startup, work, tmplogin or tmplogin-together');
  if (doStartup) {
    for (const t of trees) {
      const file = join(t.procs.makeTempDir('ab-db'), 'nodehub.sqlite');
      t.populateNodehub(file, Number(values.users));
      // one unmeasured launch each, so both start with a warm compile cache
      await (await t.startSystem('nodehub', { dbFile: file })).stop();
      dbs.set(t, file);
    }
  }
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? trees : [...trees].reverse();
    for (const t of order) {
      if (doStartup) await startup(t, dbs.get(t)!, 3);
      if (doWork) await work(t, Number(values.wave), Number(values.window), round);
      if (doTmp) await tmplogins(t, Number(values.window));
      if (doTogether && t === order[0]) await tmploginsTogether(trees, Number(values.window), 6);
      process.stderr.write(`round ${round + 1}/${rounds} ${t.label} done\n`);
    }
  }
  const out = [`| measure (median, n) | old | new | new ÷ old |`, `|---|--:|--:|--:|`];
  for (const [measure, row] of samples) {
    const o = row.get('old') ?? [];
    const n = row.get('new') ?? [];
    const mo = o.length ? median(o) : NaN;
    const mn = n.length ? median(n) : NaN;
    const f = (v: number, k: number) => (Number.isFinite(v) ? `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} (${k})` : 'n/a');
    out.push(`| ${measure} | ${f(mo, o.length)} | ${f(mn, n.length)} | ${(mn / mo).toFixed(2)} |`);
  }
  process.stdout.write(`ab ${new Date().toISOString().slice(0, 16)}Z, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n${out.join('\n')}\n`);
  process.stdout.write(`raw ${JSON.stringify(Object.fromEntries([...samples].map(([k, v]) => [k, Object.fromEntries(v)])))}\n`);
}

try {
  await main();
} catch (err) {
  process.stderr.write(`bench/ab.ts: ${(err as Error).stack ?? (err as Error).message}\n`);
  process.exitCode = 1;
} finally {
  for (const t of loaded) await t.procs.cleanupAll();
}
process.exit();
