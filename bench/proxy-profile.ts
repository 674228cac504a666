// Where `nodehub proxy` spends its CPU, and whether a change made it cheaper. Load comes from wrk (one thread), so the
// generator takes little of the 2 cores; the upstream is bench/proxy.ts's.
//
// Profile: runs this checkout's `nodehub proxy` under `node --cpu-prof` (100 B or 64 KiB responses), stops it with
// SIGTERM so the profile is written, and prints the functions with the most self time and the share per source.
//   node_modules/.bin/node bench/proxy-profile.ts [--seconds 8] [--conns 50] [--path small|64k] [--keep]
//   (--keep leaves the .cpuprofile in the printed temp dir, for Chrome DevTools or speedscope)
//
// Compare: a paired A/B of CPU per request (schedstat of the proxy process ÷ requests wrk completed), req/s and p50,
// between this checkout and another (e.g. `git worktree add /tmp/base HEAD~1`, with node_modules linked in). Both
// proxies run at once behind one upstream; every round runs each scenario on both, in alternating order, and the
// ratio is the median of the per-round ratios. `--chp` adds configurable-http-proxy, and direct is always measured.
//   node_modules/.bin/node bench/proxy-profile.ts --compare <checkout> [--rounds 7] [--seconds 3] [--chp] [--conns 1|50]
//   (--conns keeps only the scenarios at that many connections: the 1-connection latencies need many rounds)
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureWrk, wrkTrial } from './lib/load-wrk.ts';
import type { WrkTrial } from './lib/load-wrk.ts';
import { freePort } from './lib/ports.ts';
import { cleanupAll, makeTempDir, startProcess, waitForUrl } from './lib/procs.ts';
import type { ManagedProcess } from './lib/procs.ts';
import { MAIN_PREFIX, cpuNs, startChp, startUpstream } from './lib/proxy-systems.ts';
import { median } from './lib/stats.ts';
import { markdownTable } from './lib/table.ts';
import { LARGE_BYTES, SMALL_BYTES } from './lib/upstream.ts';
import { REPO_ROOT } from './nodehub.ts';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface Profile {
  nodes: { id: number; callFrame: CallFrame }[];
  samples: number[];
  timeDeltas: number[];
}

function source(url: string): string {
  if (url === '') return '(native / VM)';
  if (url.startsWith('node:')) return url.replace(/^node:internal\//, 'node:').split('/')[0]!.replace(/^(node:[^_]*?)$/, '$1');
  return url.replace(`file://${REPO_ROOT}/`, '');
}

/** Self time per function and per source file, in ms, from a V8 .cpuprofile. */
function selfTimes(profile: Profile): { fns: Map<string, number>; files: Map<string, number>; totalMs: number } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const fns = new Map<string, number>();
  const files = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    const f = byId.get(id)!;
    if (f.functionName === '(idle)') return;
    total += ms;
    const where = f.url === '' ? f.functionName || '(anonymous)' : `${f.functionName || '(anonymous)'} ${source(f.url)}:${f.lineNumber + 1}`;
    fns.set(where, (fns.get(where) ?? 0) + ms);
    const file = f.url === '' ? '(native / VM)' : source(f.url);
    files.set(file, (files.get(file) ?? 0) + ms);
  });
  return { fns, files, totalMs: total };
}

function top(map: Map<string, number>, total: number, n: number): string[][] {
  return [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, n)
    .map(([k, v]) => [k, `${v.toFixed(0)}`, `${((100 * v) / total).toFixed(1)} %`]);
}

/** `nodehub proxy` of the checkout at `root` (its own Node and bin), with the benchmark route added by REST. */
async function startProxyAt(root: string, dir: string, name: string, upstreamUrl: string, nodeArgs: string[] = []):
  Promise<{ proc: ManagedProcess; url: string }> {
  const node = join(root, 'node_modules', '.bin', 'node');
  const cli = join(root, 'bin', 'nodehub.mjs');
  for (const f of [node, cli]) if (!existsSync(f)) throw new Error(`${f} is missing (is ${root} a nodehub checkout with node_modules?)`);
  const [port, apiPort] = [await freePort(), await freePort()];
  const proc = startProcess({
    name, cwd: dir, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, CONFIGPROXY_AUTH_TOKEN: 'profile' },
    command: node,
    args: [...nodeArgs, cli, 'proxy', '--ip', '127.0.0.1', '--port', String(port),
      '--api-ip', '127.0.0.1', '--api-port', String(apiPort), '--log-level', 'warn'],
  });
  await waitForUrl(`http://127.0.0.1:${apiPort}/api/routes`, { process: proc, accept: (s) => s === 200 || s === 403 });
  const added = await fetch(`http://127.0.0.1:${apiPort}/api/routes${MAIN_PREFIX}`, {
    method: 'POST', headers: { authorization: 'token profile' }, body: JSON.stringify({ target: upstreamUrl }),
  });
  if (added.status !== 201) throw new Error(`adding the route to ${name}: HTTP ${added.status}`);
  return { proc, url: `http://127.0.0.1:${port}` };
}

function bytesOf(path: string): number {
  return path === 'small' ? SMALL_BYTES : LARGE_BYTES;
}

/** p50 in µs over a wrk trial's histogram (µs → count). */
function p50(trial: WrkTrial): number {
  let total = 0;
  for (const n of trial.histogram.values()) total += n;
  let seen = 0;
  for (const us of [...trial.histogram.keys()].sort((a, b) => a - b)) {
    seen += trial.histogram.get(us)!;
    if (seen >= total / 2) return us;
  }
  return NaN;
}

async function profile(seconds: number, conns: number, path: string): Promise<void> {
  const dir = makeTempDir('profile');
  const upstream = await startUpstream(dir, 'upstream');
  const { proc, url } = await startProxyAt(REPO_ROOT, dir, 'nodehub-proxy', upstream.url, ['--cpu-prof', '--cpu-prof-dir', dir]);
  const target = `${url}${MAIN_PREFIX}/${path}`;
  await wrkTrial(target, conns, 1, bytesOf(path)); // warm-up, so the profile shows the steady state more than the JIT
  const cpu0 = cpuNs(proc.pid);
  const r = await wrkTrial(target, conns, seconds, bytesOf(path));
  const cpuUs = (cpuNs(proc.pid) - cpu0) / 1000;
  process.stdout.write(`${path} · ${conns} conns · ${seconds} s: ${(r.ok / (r.elapsedMs / 1000)).toFixed(0)} req/s, ` +
    `${r.errors} errors, proxy CPU ${(cpuUs / Math.max(1, r.ok)).toFixed(1)} µs per request\n\n`);
  await proc.stop(10_000);
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no .cpuprofile was written in ${dir} (did the proxy exit on SIGTERM?)`);
  const { fns, files, totalMs } = selfTimes(JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile);
  process.stdout.write(`busy ${totalMs.toFixed(0)} ms sampled (warm-up included)\n\n`);
  process.stdout.write(markdownTable(['source', { title: 'self ms', align: 'right' }, { title: 'share', align: 'right' }],
    top(files, totalMs, 12)) + '\n\n');
  process.stdout.write(markdownTable(['function', { title: 'self ms', align: 'right' }, { title: 'share', align: 'right' }],
    top(fns, totalMs, 30)) + '\n');
}

interface Sample {
  cpu: number;
  rate: number;
  p50: number;
}

async function compare(other: string, rounds: number, seconds: number, withChp: boolean, onlyConns?: number): Promise<void> {
  const dir = makeTempDir('compare');
  const upstream = await startUpstream(dir, 'upstream');
  const systems: { label: string; url: string; pid?: number }[] = [{ label: 'direct', url: upstream.url }];
  const base = await startProxyAt(other, dir, 'base', upstream.url);
  const mine = await startProxyAt(REPO_ROOT, dir, 'this', upstream.url);
  systems.push({ label: `base (${other})`, url: base.url, pid: base.proc.pid }, { label: 'this checkout', url: mine.url, pid: mine.proc.pid });
  if (withChp) {
    const chp = await startChp(dir, upstream, upstream);
    systems.push({ label: chp.label, url: chp.url, pid: chp.process!.pid });
  }
  const scenarios = ([['small', 1], ['small', 50], ['64k', 1], ['64k', 50]] as const)
    .filter(([, conns]) => onlyConns === undefined || conns === onlyConns);
  if (scenarios.length === 0) throw new Error('--conns with --compare must be 1 or 50');
  const samples = new Map<string, Sample[][]>(); // scenario → per system → rounds
  for (const [path, conns] of scenarios) {
    for (const s of systems) await wrkTrial(`${s.url}${MAIN_PREFIX}/${path}`, conns, 1, bytesOf(path));
  }
  for (let round = 0; round < rounds; round++) {
    for (const [path, conns] of scenarios) {
      const key = `${path === 'small' ? '100 B' : '64 KiB'} · ${conns} conn${conns > 1 ? 's' : ''}`;
      const perSystem = samples.get(key) ?? systems.map(() => []);
      samples.set(key, perSystem);
      const order = systems.map((_, i) => i);
      if (round % 2 === 1) order.reverse();
      for (const i of order) {
        const s = systems[i]!;
        const cpu0 = s.pid === undefined ? 0 : cpuNs(s.pid);
        const r = await wrkTrial(`${s.url}${MAIN_PREFIX}/${path}`, conns, seconds, bytesOf(path));
        if (r.errors > 0) throw new Error(`${s.label}, ${key}: ${r.firstError}`);
        const cpu = s.pid === undefined ? NaN : (cpuNs(s.pid) - cpu0) / 1000 / r.ok;
        perSystem[i]!.push({ cpu, rate: r.ok / (r.elapsedMs / 1000), p50: p50(r) });
      }
      const last = perSystem.map((x) => x[x.length - 1]!);
      process.stderr.write(`round ${round + 1} ${key}: ${systems.map((s, i) => `${s.label} ${last[i]!.cpu.toFixed(1)} µs, ` +
        `${last[i]!.rate.toFixed(0)}/s, p50 ${last[i]!.p50} µs`).join('; ')}\n`);
    }
    process.stderr.write(`round ${round + 1}/${rounds} done\n`);
  }
  const [b, t] = [1, 2];
  const rows = [...samples.entries()].map(([key, per]) => {
    const ratio = (f: (x: Sample) => number): string =>
      median(per[t]!.map((x, k) => f(x) / f(per[b]![k]!))).toFixed(3);
    const cells = systems.map((s, i) => {
      const m = (f: (x: Sample) => number): number => median(per[i]!.map(f));
      const cpu = s.pid === undefined ? '' : `${m((x) => x.cpu).toFixed(1)} µs · `;
      return `${cpu}${m((x) => x.rate).toFixed(0)}/s · ${m((x) => x.p50)} µs`;
    });
    return [key, ...cells, ratio((x) => x.cpu), ratio((x) => x.rate), ratio((x) => x.p50)];
  });
  process.stdout.write(`${rounds} rounds of ${seconds} s per scenario and system, order alternating; medians; ` +
    'cells: proxy CPU per request · req/s · p50\n\n');
  process.stdout.write(markdownTable(['scenario', ...systems.map((s) => s.label),
    { title: 'this ÷ base CPU', align: 'right' }, { title: 'req/s', align: 'right' }, { title: 'p50', align: 'right' }], rows) + '\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    seconds: { type: 'string' }, conns: { type: 'string' },
    path: { type: 'string', default: 'small' }, keep: { type: 'boolean', default: false },
    compare: { type: 'string' }, rounds: { type: 'string', default: '7' }, chp: { type: 'boolean', default: false },
  } });
  const seconds = Number(values.seconds ?? (values.compare !== undefined ? 3 : 8));
  const conns = Number(values.conns ?? 50), rounds = Number(values.rounds);
  if (!(Number.isInteger(seconds) && seconds > 0 && seconds <= 120) || !(Number.isInteger(conns) && conns > 0 && conns <= 1000)) {
    throw new Error('--seconds must be a whole number in [1, 120] and --conns an integer from 1 to 1000');
  }
  if (!(Number.isInteger(rounds) && rounds > 0 && rounds <= 100)) throw new Error('--rounds must be an integer from 1 to 100');
  if (values.path !== 'small' && values.path !== '64k') throw new Error('--path must be small or 64k');
  if (values.keep) process.env.BENCH_KEEP_TMP = '1';
  ensureWrk((msg) => process.stderr.write(`${msg}\n`));
  if (values.compare !== undefined) {
    await compare(values.compare, rounds, seconds, values.chp, values.conns === undefined ? undefined : conns);
  }
  else await profile(seconds, conns, values.path);
}

try {
  await main();
} catch (err) {
  process.stderr.write(`bench/proxy-profile.ts: ${(err as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await cleanupAll();
}
