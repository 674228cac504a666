// Where a hub's CPU goes during logins: starts nodehub (this checkout, or --root another one, whose own bench helpers
// start it) under `node --cpu-prof`, logs in back to back for a window (8 clients, as bench/ab.ts does), stops the hub
// so the profile is written, and prints the functions with the most self time and the hub CPU per login.
//
//   node_modules/.bin/node bench/login-profile.ts [--root /path/to/checkout] [--kind tmplogin|form] [--window 5000]
//     [--top 40] [--keep DIR]
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from './nodehub.ts';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Self time per function (µs), from the sample deltas: hitCount alone ignores how long each sample stood for. */
function selfTimes(p: Profile, root: string): Map<string, number> {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const out = new Map<string, number>();
  p.samples.forEach((id, i) => {
    const n = byId.get(id)!;
    const f = n.callFrame;
    const url = f.url.replace(`file://${root}/`, '').replace(/^file:\/\/.*\/node_modules\//, 'node_modules/');
    const key = `${f.functionName || '(anonymous)'} ${url}${url ? `:${f.lineNumber + 1}` : ''}`;
    out.set(key, (out.get(key) ?? 0) + (p.timeDeltas[i] ?? 0));
  });
  return out;
}

/** Self time summed by file (or package), a coarser view of the same samples. */
function byFile(self: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [key, us] of self) {
    const where = key.split(' ').slice(1).join(' ').replace(/:\d+$/, '');
    const file = where.startsWith('node_modules/') ? where.split('/').slice(0, where.split('/')[1]!.startsWith('@') ? 3 : 2).join('/') : where || key;
    out.set(file, (out.get(file) ?? 0) + us);
  }
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      root: { type: 'string', default: REPO_ROOT },
      kind: { type: 'string', default: 'tmplogin' },
      window: { type: 'string', default: '5000' },
      top: { type: 'string', default: '40' },
      keep: { type: 'string' },
    },
  });
  const root = resolve(values.root);
  const kind = values.kind as 'tmplogin' | 'form';
  const at = (p: string) => join(root, 'bench', p);
  const { MOCK } = await import(at('hub/systems.ts'));
  const load = await import(at('lib/hub-load.ts'));
  const { startNodehub } = await import(at('nodehub.ts'));
  const procs = await import(at('lib/procs.ts'));
  const dir = values.keep ?? mkdtempSync(join(tmpdir(), 'login-profile-'));
  try {
    // systems.ts cannot pass the environment, so the hub is started the way it starts one, with NODE_OPTIONS added
    const hub = await startNodehub({
      node: process.execPath, mock: MOCK, readyPath: '/hub/health', pollMs: 5,
      nodehubConfig: { JupyterHub: { ...(kind === 'tmplogin' ? { authenticator_class: 'tmp' } : {}) } },
      env: { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${dir}` },
    });
    let rate;
    let used;
    let warm = 0;
    try {
      // one unmeasured window first, so the profile is mostly of optimised code as a busy hub runs it
      warm = (await load.loginRate(hub, kind, 1000)).logins;
      const c0 = cpuMs(hub.process.pid);
      rate = await load.loginRate(hub, kind, Number(values.window));
      used = cpuMs(hub.process.pid) - c0;
    } finally {
      await hub.stop();
    }
    const file = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(dir, f))
      .sort((a, b) => readFileSync(b).length - readFileSync(a).length)[0];
    if (!file) throw new Error(`no profile written in ${dir}`);
    const prof = JSON.parse(readFileSync(file, 'utf8')) as Profile;
    const self = selfTimes(prof, root);
    const total = [...self.values()].reduce((a, b) => a + b, 0);
    // µs per login over both windows (start-up's few samples are charged to them too)
    const per = (us: number) => `${(us / (warm + rate.logins)).toFixed(1).padStart(6)} µs`;
    const pct = (us: number) => `${((us / total) * 100).toFixed(1).padStart(5)} % ${per(us)}`;
    process.stdout.write(`${kind}: ${rate.logins} logins, ${rate.failed} failed, ${rate.perSecond.toFixed(0)}/s, ` +
      `hub CPU ${(used / rate.logins).toFixed(3)} ms per login (with the profiler on); profile ${file}\n\nby file:\n`);
    for (const [f, us] of [...byFile(self)].sort((a, b) => b[1] - a[1]).slice(0, 25)) process.stdout.write(`${pct(us)}  ${f}\n`);
    process.stdout.write('\nby function (self):\n');
    for (const [k, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) process.stdout.write(`${pct(us)}  ${k}\n`);
  } finally {
    await procs.cleanupAll();
  }
}

try {
  await main();
} catch (err) {
  process.stderr.write(`bench/login-profile.ts: ${(err as Error).stack ?? (err as Error).message}\n`);
  process.exitCode = 1;
}
process.exit();
