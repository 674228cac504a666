// Where `nodehub proxy` spends its CPU under the benchmark's small-body load: runs it under `node --cpu-prof` behind
// the same upstream and load generator as bench/proxy.ts (100 B responses, 50 keep-alive connections), stops it with
// SIGTERM so the profile is written, and prints the functions with the most self time and the share per source.
//
//   node_modules/.bin/node bench/proxy-profile.ts [--seconds 8] [--conns 50] [--path small|64k] [--keep]
//   (--keep leaves the .cpuprofile in the printed temp dir, for Chrome DevTools or speedscope)
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startLoadGenerator } from './lib/load.ts';
import { freePort } from './lib/ports.ts';
import { cleanupAll, makeTempDir, startProcess, waitForUrl } from './lib/procs.ts';
import { MAIN_PREFIX, cpuNs, startUpstream } from './lib/proxy-systems.ts';
import { markdownTable } from './lib/table.ts';
import { LARGE_BYTES, SMALL_BYTES } from './lib/upstream.ts';
import { NODEHUB_CLI, NODEHUB_NODE, REPO_ROOT } from './nodehub.ts';

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

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    seconds: { type: 'string', default: '8' }, conns: { type: 'string', default: '50' },
    path: { type: 'string', default: 'small' }, keep: { type: 'boolean', default: false },
  } });
  const seconds = Number(values.seconds), conns = Number(values.conns);
  if (!(seconds > 0 && seconds <= 120) || !(Number.isInteger(conns) && conns > 0 && conns <= 1000)) {
    throw new Error('--seconds must be in (0, 120] and --conns an integer from 1 to 1000');
  }
  if (values.path !== 'small' && values.path !== '64k') throw new Error('--path must be small or 64k');
  if (values.keep) process.env.BENCH_KEEP_TMP = '1';
  const dir = makeTempDir('profile');
  const upstream = await startUpstream(dir, 'upstream');
  const [port, apiPort] = [await freePort(), await freePort()];
  const proxy = startProcess({
    name: 'nodehub-proxy', cwd: dir, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, CONFIGPROXY_AUTH_TOKEN: 'profile' },
    command: NODEHUB_NODE,
    args: ['--cpu-prof', '--cpu-prof-dir', dir, NODEHUB_CLI, 'proxy', '--ip', '127.0.0.1', '--port', String(port),
      '--api-ip', '127.0.0.1', '--api-port', String(apiPort), '--log-level', 'warn'],
  });
  await waitForUrl(`http://127.0.0.1:${apiPort}/api/routes`, { process: proxy, accept: (s) => s === 200 || s === 403 });
  const added = await fetch(`http://127.0.0.1:${apiPort}/api/routes${MAIN_PREFIX}`, {
    method: 'POST', headers: { authorization: 'token profile' }, body: JSON.stringify({ target: upstream.url }),
  });
  if (added.status !== 201) throw new Error(`adding the route: HTTP ${added.status}`);
  const gen = startLoadGenerator('profile', dir);
  const url = `http://127.0.0.1:${port}${MAIN_PREFIX}/${values.path}`;
  const bytes = values.path === 'small' ? SMALL_BYTES : LARGE_BYTES;
  try {
    await gen.http(url, conns, 1_000, bytes); // warm-up, so the profile shows the steady state more than the JIT
    const cpu0 = cpuNs(proxy.pid);
    const r = await gen.http(url, conns, seconds * 1000, bytes);
    const cpuUs = (cpuNs(proxy.pid) - cpu0) / 1000;
    process.stdout.write(`${values.path} · ${conns} conns · ${seconds} s: ${(r.ok / (r.elapsedMs / 1000)).toFixed(0)} req/s, ` +
      `${r.errors} errors, proxy CPU ${(cpuUs / Math.max(1, r.ok)).toFixed(1)} µs per request\n\n`);
  } finally {
    await gen.stop();
  }
  await proxy.stop(10_000);
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no .cpuprofile was written in ${dir} (did the proxy exit on SIGTERM?)`);
  const { fns, files, totalMs } = selfTimes(JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile);
  process.stdout.write(`busy ${totalMs.toFixed(0)} ms sampled (warm-up included)\n\n`);
  process.stdout.write(markdownTable(['source', { title: 'self ms', align: 'right' }, { title: 'share', align: 'right' }],
    top(files, totalMs, 12)) + '\n\n');
  process.stdout.write(markdownTable(['function', { title: 'self ms', align: 'right' }, { title: 'share', align: 'right' }],
    top(fns, totalMs, 30)) + '\n');
}

try {
  await main();
} catch (err) {
  process.stderr.write(`bench/proxy-profile.ts: ${(err as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await cleanupAll();
}
