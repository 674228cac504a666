// What a load generator costs: the Node generator (load-worker.ts, node:http keep-alive agents) and wrk (load-wrk.ts)
// against the same upstream, with no proxy, alternating within each round: CPU per request of each generator and of
// the upstream, and the rate each reaches. It is the measurement behind the proxy benchmark's choice of wrk.
//
//   node_modules/.bin/node bench/lib/load-cost.ts [--rounds 5]
import { parseArgs } from 'node:util';
import { startLoadGenerator } from './load.ts';
import { ensureWrk, wrkTrial } from './load-wrk.ts';
import { cleanupAll, makeTempDir } from './procs.ts';
import { HTTP_SCENARIOS } from './proxy-results.ts';
import { MAIN_PREFIX, cpuNs, startUpstream } from './proxy-systems.ts';
import { median } from './stats.ts';
import { markdownTable } from './table.ts';

type Kind = 'node' | 'wrk';
interface Sample { rate: number; genUs: number; upUs: number; errors: number }

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' } } });
  const rounds = Number(values.rounds);
  if (!(Number.isInteger(rounds) && rounds >= 1 && rounds <= 20)) throw new Error('--rounds must be an integer from 1 to 20');
  const wrk = ensureWrk((m) => process.stderr.write(`${m}\n`));
  const dir = makeTempDir('load-cost');
  const upstream = await startUpstream(dir, 'upstream');
  const gen = startLoadGenerator('node', dir);
  const samples = new Map<string, Sample[]>();
  try {
    await gen.http(`${upstream.url}${MAIN_PREFIX}/small`, 50, 1_000, 100); // warm-up of both JITs
    for (let round = 0; round < rounds; round++) {
      for (const sc of HTTP_SCENARIOS) {
        const url = `${upstream.url}${MAIN_PREFIX}/${sc.path}`;
        const kinds: Kind[] = round % 2 === 0 ? ['node', 'wrk'] : ['wrk', 'node'];
        for (const kind of kinds) {
          const [up0, gen0] = [cpuNs(upstream.process.pid), cpuNs(gen.pid)];
          const r = kind === 'wrk' ? await wrkTrial(url, sc.conns, 1, sc.bytes) : await gen.http(url, sc.conns, 1_000, sc.bytes);
          const genUs = kind === 'wrk' ? (r as { genCpuUs: number }).genCpuUs : (cpuNs(gen.pid) - gen0) / 1000;
          const n = Math.max(1, r.ok);
          const key = `${sc.id} ${kind}`;
          samples.set(key, [...(samples.get(key) ?? []), { rate: r.ok / (r.elapsedMs / 1000), genUs: genUs / n,
            upUs: (cpuNs(upstream.process.pid) - up0) / 1000 / n, errors: r.errors }]);
        }
      }
      process.stderr.write(`round ${round + 1}/${rounds} done\n`);
    }
  } finally {
    await gen.stop();
  }
  const med = (key: string, f: (s: Sample) => number): number => median(samples.get(key)!.map(f));
  const rows = HTTP_SCENARIOS.flatMap((sc) => (['node', 'wrk'] as const).map((kind) => {
    const key = `${sc.id} ${kind}`;
    const errors = samples.get(key)!.reduce((a, s) => a + s.errors, 0);
    return [sc.title, kind === 'wrk' ? wrk : 'Node (node:http agents)', med(key, (s) => s.rate).toFixed(0),
      med(key, (s) => s.genUs).toFixed(1), med(key, (s) => s.upUs).toFixed(1), String(errors)];
  }));
  process.stdout.write(`${rounds} rounds of 1 s per scenario and generator, alternating; medians; no proxy\n\n`);
  process.stdout.write(markdownTable(['scenario', 'generator', { title: 'req/s', align: 'right' },
    { title: 'generator CPU µs/req', align: 'right' }, { title: 'upstream CPU µs/req', align: 'right' },
    { title: 'errors', align: 'right' }], rows) + '\n');
}

try {
  await main();
} catch (err) {
  process.stderr.write(`bench/lib/load-cost.ts: ${(err as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await cleanupAll();
}
