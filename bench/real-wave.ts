// Benchmark: many real jupyter-servers (Debian's jupyterhub-singleuser) started at once on a fresh hub, time to the
// first, half and all ready, for nodehub with LocalProcessSpawner.preload on and off and for JupyterHub 3.0, rounds
// alternating the order. It is the hub benchmark's real-server wave on its own, repeated, for paired comparisons.
//
//   node_modules/.bin/node bench/real-wave.ts [--servers 50] [--rounds 3] [--systems jupyterhub,nodehub,nodehub-plain]
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { createUsers, spawnWave } from './lib/hub-load.ts';
import { cleanupAll } from './lib/procs.ts';
import { runRounds } from './lib/rounds.ts';
import { formatMs, formatRatio, summarize } from './lib/stats.ts';
import { markdownTable } from './lib/table.ts';
import { SINGLEUSER, startSystem } from './hub/systems.ts';
import type { RunningHub } from './reference.ts';

const BUDGET_MS = 120_000;
const RUN_BUDGET_MS = 20 * 60_000;

interface Variant {
  key: string;
  label: string;
  start: () => Promise<RunningHub>;
  first: number[];
  half: number[];
  all: number[];
  error?: string;
}

const VARIANTS: Record<string, Omit<Variant, 'first' | 'half' | 'all'>> = {
  jupyterhub: { key: 'jupyterhub', label: 'JupyterHub 3.0 + CHP 5.3', start: () => startSystem('jupyterhub', { cmd: [SINGLEUSER] }) },
  nodehub: { key: 'nodehub', label: 'nodehub (preload on, the default)', start: () => startSystem('nodehub', { cmd: [SINGLEUSER] }) },
  'nodehub-plain': {
    key: 'nodehub-plain',
    label: 'nodehub (preload off)',
    start: () => startSystem('nodehub', { cmd: [SINGLEUSER], nodehub: { LocalProcessSpawner: { preload: false } } }),
  },
};

function options(): { servers: number; rounds: number; variants: Variant[] } {
  const { values } = parseArgs({
    options: {
      servers: { type: 'string', default: '50' },
      rounds: { type: 'string', default: '3' },
      systems: { type: 'string', default: 'jupyterhub,nodehub,nodehub-plain' },
    },
  });
  const servers = Number(values.servers);
  const rounds = Number(values.rounds);
  if (!Number.isInteger(servers) || servers < 1 || servers > 200) throw new Error(`--servers must be 1 to 200, got ${values.servers}`);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 20) throw new Error(`--rounds must be 1 to 20, got ${values.rounds}`);
  const variants = values.systems.split(',').map((k) => {
    const v = VARIANTS[k.trim()];
    if (!v) throw new Error(`unknown system ${JSON.stringify(k)}; known: ${Object.keys(VARIANTS).join(', ')}`);
    return { ...v, first: [], half: [], all: [] };
  });
  return { servers, rounds, variants };
}

async function wave(v: Variant, servers: number, round: number): Promise<number> {
  const hub = await v.start();
  try {
    const names = Array.from({ length: servers }, (_, k) => `r${round}u${k}`);
    await createUsers(hub, names);
    const w = await spawnWave(hub, names, BUDGET_MS);
    if (w.failed) throw new Error(`${w.failed} of ${servers} failed, e.g. ${w.error}`);
    v.first.push(w.firstMs);
    v.half.push(w.medianMs);
    v.all.push(w.allMs);
    return w.allMs;
  } finally {
    await hub.stop();
  }
}

async function main(): Promise<void> {
  const { servers, rounds, variants } = options();
  const notes: string[] = [];
  const log = (line: string) => process.stderr.write(`${line}\n`);
  await runRounds(variants, {
    rounds, budgetMs: RUN_BUDGET_MS, notes, log, ready: () => true, measure: (v, round) => wave(v, servers, round),
  });
  const base = variants.find((v) => v.key === 'jupyterhub');
  const cell = (xs: number[], ref?: number[]) => {
    if (!xs.length) return ['n/a', ''];
    const s = summarize(xs);
    return [`${formatMs(s.median)} (${formatMs(s.min)}–${formatMs(s.max)})`, ref?.length ? formatRatio(s.median, summarize(ref).median) : ''];
  };
  const rows = variants.map((v) => [
    v.label, String(v.all.length), ...cell(v.first, base?.first), ...cell(v.half, base?.half), ...cell(v.all, base?.all),
  ]);
  const right = { align: 'right' as const };
  const table = markdownTable(
    ['system', { title: 'n', ...right }, { title: 'first ready', ...right }, { title: '÷ JH', ...right },
      { title: 'half ready', ...right }, { title: '÷ JH', ...right }, { title: 'all ready', ...right }, { title: '÷ JH', ...right }],
    rows,
  );
  for (const v of variants) if (v.error) notes.push(`${v.label}: ${v.error.split('\n')[0]}`);
  notes.push(`each wave on a fresh hub: ${servers} POST …/server at once, ready = 201 (slow_spawn_timeout raised); medians (min–max) over rounds, order alternating`);
  const load = loadavg().map((l) => l.toFixed(2)).join(' ');
  process.stdout.write(`## ${servers} jupyter-servers at once (${new Date().toISOString().slice(0, 16)}Z, Node ${process.version}, ` +
    `${cpus().length} CPUs, load ${load})\n\n${table}\n\n${notes.map((n) => `- ${n}`).join('\n')}\n`);
}

try {
  await main();
} catch (err) {
  process.stderr.write(`bench/real-wave.ts: ${(err as Error).stack ?? (err as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await cleanupAll();
}
