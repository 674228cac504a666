// The proxy benchmark's Markdown report: a table of measurements per system (medians with ranges over rounds,
// p50/p99 over all requests of all rounds), a table of memory, idle websockets and routes, and the targets
// checked against same-run ratios.
import { cpus, loadavg } from 'node:os';
import { median, percentile } from './stats.ts';
import { markdownTable } from './table.ts';
import { HTTP_SCENARIOS, WS_SCENARIOS, latencyPercentile } from './proxy-results.ts';
import type { Series, SystemResults } from './proxy-results.ts';
import { fileLimit } from './proxy-systems.ts';
import type { Plan } from '../proxy.ts';

const KEYS = ['direct', 'relay', 'chp', 'nodehub', 'hub'] as const;
const right = { align: 'right' as const };
const int = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
const ms = (n: number): string => (!Number.isFinite(n) ? 'n/a' : n < 1 ? n.toFixed(3) : n < 10 ? n.toFixed(2) : n.toFixed(1));
const mib = (b: number): string => (Number.isFinite(b) ? `${(b / 2 ** 20).toFixed(0)} MiB` : 'n/a');
const ratio = (a: number, b: number): string => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a');

function rateOf(s: Series | undefined): number {
  return s && s.rates.length ? median(s.rates) : NaN;
}

function rateCell(s: Series | undefined): string {
  if (!s || s.rates.length === 0) return 'n/a';
  const err = s.errors ? ` ⚠ ${s.errors} errors` : '';
  if (s.rates.length === 1) return int(s.rates[0]!) + err;
  return `${int(median(s.rates))} (${int(Math.min(...s.rates))}–${int(Math.max(...s.rates))})${err}`;
}

function pct(s: Series | undefined, p: number): number {
  return s ? latencyPercentile(s, p) : NaN;
}

export function report(p: Plan, systems: readonly SystemResults[], seconds: number): string {
  const by = new Map(systems.map((s) => [s.key, s]));
  const cols = KEYS.map((k) => by.get(k)!);
  const series = (k: string, id: string): Series | undefined => (by.get(k as never)?.available ? by.get(k as never)!.series.get(id) : undefined);
  const rate = (k: string, id: string): number => rateOf(series(k, id));
  const ratios = (id: string): string[] => [
    ratio(rate('nodehub', id), rate('chp', id)), ratio(rate('nodehub', id), rate('direct', id)),
    ratio(rate('hub', id), rate('direct', id)), ratio(rate('chp', id), rate('direct', id)),
    ratio(rate('relay', id), rate('direct', id)),
  ];
  const added = (k: string): number => pct(series(k, 'small-1'), 50) - pct(series('direct', 'small-1'), 50);

  const cpu = (k: string, id: string): number => { const s = series(k, id); return s?.cpuPerOp.length ? median(s.cpuPerOp) : NaN; };
  const genCpu = (id: string): number => { const s = series('direct', id); return s?.genCpuPerOp.length ? median(s.genCpuPerOp) : NaN; };
  const rows: string[][] = [];
  for (const sc of HTTP_SCENARIOS) {
    rows.push([`${sc.title}: req/s`, ...cols.map((c) => rateCell(series(c.key, sc.id))), ...ratios(sc.id)]);
    rows.push([`${sc.title}: p50 / p99 ms`, ...cols.map((c) => `${ms(pct(series(c.key, sc.id), 50))} / ${ms(pct(series(c.key, sc.id), 99))}`), '', '', '', '', '']);
  }
  rows.push(['added p50 at 1 conn vs direct (100 B), ms', '—', ...cols.slice(1).map((c) => ms(added(c.key))), '', '', '', '', '']);
  for (const sc of WS_SCENARIOS) {
    rows.push([`${sc.title}: round-trips/s`, ...cols.map((c) => rateCell(series(c.key, sc.id))), ...ratios(sc.id)]);
    rows.push([`${sc.title}: p50 / p99 ms`, ...cols.map((c) => `${ms(pct(series(c.key, sc.id), 50))} / ${ms(pct(series(c.key, sc.id), 99))}`), '', '', '', '', '']);
  }
  const head = ['measurement', ...cols.map((c) => ({ title: c.label, ...right })),
    { title: 'nodehub ÷ CHP', ...right }, { title: 'nodehub ÷ direct', ...right }, { title: 'hub ÷ direct', ...right },
    { title: 'CHP ÷ direct', ...right }, { title: 'C relay ÷ direct', ...right }];
  const speed = markdownTable(head, rows);

  // If CPU were the only limit, a request costing G (generator) + U (upstream) + P (proxy) µs, each process on one
  // thread, could run at most min(2 cores ÷ (G+U+P), 1 core ÷ max(G, U, P)) times a second; the "CPU-bound" columns
  // are the ratios that cost model allows, to set the measured ones against.
  const cap = (id: string, k?: string): number => {
    const parts = [genCpu(id), cpu('direct', id), ...(k ? [cpu(k, id)] : [])];
    return Math.min(2e6 / parts.reduce((a, b) => a + b, 0), 1e6 / Math.max(...parts));
  };
  const cpuRows = [...HTTP_SCENARIOS, ...WS_SCENARIOS].map((sc) => [sc.title, ms(genCpu(sc.id)), ms(cpu('direct', sc.id)),
    ...cols.slice(1).map((c) => ms(cpu(c.key, sc.id))), ratio(cpu('nodehub', sc.id), cpu('chp', sc.id)),
    ratio(cap(sc.id, 'nodehub'), cap(sc.id, 'chp')), ratio(cap(sc.id, 'nodehub'), cap(sc.id))]);
  const cpuTable = markdownTable(['CPU µs per request or round-trip', { title: 'generator', ...right },
    { title: 'upstream', ...right }, ...cols.slice(1).map((c) => ({ title: c.label, ...right })),
    { title: 'nodehub ÷ CHP', ...right }, { title: 'CPU-bound nodehub ÷ CHP', ...right },
    { title: 'CPU-bound nodehub ÷ direct', ...right }], cpuRows);

  const proxies = cols.filter((c) => c.key !== 'direct' && c.key !== 'relay');
  const idleRows: string[][] = [
    ['RSS after start-up (idle)', ...proxies.map((c) => mib(c.rssIdle))],
    [`idle websockets: opened of ${int(p.idleSockets)} (open time)`, ...proxies.map((c) => c.idle ? `${int(c.idle.opened)} (${(c.idle.openMs / 1000).toFixed(1)} s)` : 'n/a')],
    ['idle websockets: dropped (closed while held / no echo after)', ...proxies.map((c) => c.idle
      ? `${int(c.idle.wanted - c.idle.echoed)} (${int(c.idle.closedWhileHeld)} / ${int(c.idle.opened - c.idle.echoed)})` : 'n/a')],
    ['idle websockets: RSS at end of hold (max; added by them)', ...proxies.map((c) => c.idle
      ? `${mib(c.idle.rssEnd)} (${mib(c.idle.rssMax)}; +${mib(c.idle.rssEnd - c.idle.rssBefore)})` : 'n/a')],
    ['RSS after the throughput runs (websockets closed)', ...proxies.map((c) => mib(c.rssAfterLoad))],
    [`${int(p.routes)} routes: POST p50 / p99 ms (total)`, ...proxies.map((c) => c.routes && !c.routes.error
      ? `${ms(percentile([...c.routes.addLatencies], 50))} / ${ms(percentile([...c.routes.addLatencies], 99))} (${(c.routes.addTotalMs / 1000).toFixed(1)} s)` : 'n/a')],
    [`${int(p.routes)} routes: GET /api/routes ms, median (min–max)`, ...proxies.map((c) => c.routes && !c.routes.error
      ? `${ms(median([...c.routes.listLatencies]))} (${ms(Math.min(...c.routes.listLatencies))}–${ms(Math.max(...c.routes.listLatencies))})` : 'n/a')],
    [`${int(p.routes)} routes: RSS after`, ...proxies.map((c) => (c.routes ? mib(c.routes.rssAfter) : 'n/a'))],
  ];
  const memory = markdownTable(['measurement', ...proxies.map((c) => ({ title: c.label, ...right }))], idleRows);

  const goal = (label: string, value: (k: string) => number, show: (v: number) => string, ok: (v: number) => boolean): string[] => {
    const cell = (k: string): string => {
      const v = value(k);
      return Number.isFinite(v) ? `${show(v)} ${ok(v) ? '✅' : '❌'}` : 'n/a';
    };
    return [label, cell('nodehub'), cell('hub')];
  };
  const x = (v: number): string => `${v.toFixed(2)}×`;
  const idleOf = (k: string) => by.get(k as never)?.idle;
  const targets = markdownTable(['target (issue 5)', { title: 'nodehub proxy', ...right }, { title: 'nodehub hub', ...right }], [
    goal('100 B · 50 conns ≥ 2.5× CHP', (k) => rate(k, 'small-50') / rate('chp', 'small-50'), x, (v) => v >= 2.5),
    goal('100 B · 50 conns ≥ 0.45 of direct', (k) => rate(k, 'small-50') / rate('direct', 'small-50'), x, (v) => v >= 0.45),
    goal('64 KiB · 50 conns ≥ 3× CHP', (k) => rate(k, '64k-50') / rate('chp', '64k-50'), x, (v) => v >= 3),
    goal('added p50 at 1 conn ≤ 0.08 ms', added, (v) => `${ms(v)} ms`, (v) => v <= 0.08),
    goal('websocket echo · 1 client ≥ 0.8 of direct', (k) => rate(k, 'ws-1') / rate('direct', 'ws-1'), x, (v) => v >= 0.8),
    goal('websocket echo · 50 clients ≥ 0.8 of direct', (k) => rate(k, 'ws-50') / rate('direct', 'ws-50'), x, (v) => v >= 0.8),
    goal(`${int(p.idleSockets)} idle websockets: RSS ≤ 150 MiB`, (k) => idleOf(k)?.rssMax ?? NaN, mib, (v) => v <= 150 * 2 ** 20),
    goal(`${int(p.idleSockets)} idle websockets: no drops`, (k) => { const i = idleOf(k); return i ? i.wanted - i.echoed : NaN; },
      int, (v) => v === 0),
    goal(`${int(p.routes)} routes: listing faster than CHP`, (k) => {
      const mine = by.get(k as never)?.routes, chp = by.get('chp')?.routes;
      return mine && chp && !mine.error && !chp.error ? median([...mine.listLatencies]) / median([...chp.listLatencies]) : NaN;
    }, (v) => `${x(v)} CHP's time`, (v) => v < 1),
  ]);

  const notes = [
    `${p.quick ? '--quick: ' : ''}${p.rounds} round(s) of ${p.trialMs} ms per scenario and system, order rotated per round; ` +
      'rates are medians (min–max) over rounds; p50/p99 over every request of every round; one unrecorded warm-up per system',
    `HTTP load: ${p.wrk} (bench/lib/load-wrk.ts), one thread (-t1) so that the generator keeps to one core, one ` +
      'keep-alive connection per conn, requests back to back, 1 s per trial; p50/p99 from its whole latency histogram ' +
      "(1 µs bins) with wrk's coordinated-omission correction taken out again, so they count answered requests as the " +
      'websocket rows do; requests unanswered when a trial ends count neither way; ⚠ errors = responses with status ' +
      '≥ 400, socket errors (connect/read/write/timeout) and responses whose mean size does not fit the body, none of ' +
      'them counted in req/s',
    'websocket load, idle websockets and routes: a separate Node process (bench/lib/load-worker.ts, `ws` clients, ' +
      'node:http); generator, proxy and upstream share the 2 cores',
    `idle websockets, measured first on fresh processes: one generator process and one idle upstream per proxy; ` +
      `all proxies open and hold theirs at the same time ` +
      `for ${(p.holdMs / 1000).toFixed(0)} s, then each socket must echo one message; ${int(p.idleSockets)} because the ` +
      `hard open-file limit here is ${int(fileLimit())} per process and a proxied websocket takes two descriptors`,
    'routes: one POST /api/routes/<prefix> at a time on one keep-alive connection, then 5 × GET /api/routes; ' +
      'the hub has no route API (its routes come from spawns and services), so it has no routes figures',
    'CPU µs: CPU time (all threads: /proc/<pid>/task/*/schedstat; wrk\'s from its own clock() as the trial ends) a ' +
      'process used during a trial ÷ requests or ' +
      'round-trips completed, median over rounds; generator (G: wrk\'s own CPU for HTTP rows, the Node generator for ' +
      'websocket rows) and upstream (U) from the direct runs. "CPU-bound" ' +
      'columns: the throughput ratios CPU alone would allow, each system capped at min(2 cores ÷ (G+U+P), ' +
      '1 core ÷ max(G, U, P)) with P its proxy\'s CPU per request',
    'C byte relay (bench/lib/byte-relay.c, built with cc): one epoll thread copying bytes between each client and ' +
      'its own upstream connection, no HTTP parsing or routing: what two extra loopback hops cost at the least, the ' +
      'bound for any user-space proxy on this machine; it has no idle-websocket, memory or routes figures',
    'every proxy at --log-level warn (the hub at WARN); CHP runs from node_modules under the same Node 24',
    ...systems.flatMap((s) => s.notes),
    ...systems.flatMap((s) => [...s.series.entries()].filter(([, v]) => v.errors > 0)
      .map(([id, v]) => `${s.label} ${id}: ${v.errors} errors, first: ${v.firstError}`)),
    ...systems.flatMap((s) => [s.idle?.error, s.routes?.error].filter(Boolean).map((e) => `${s.label}: ${e}`)),
  ];
  const load = loadavg().map((l) => l.toFixed(2)).join(' ');
  const title = `## Proxy (${new Date().toISOString().slice(0, 16)}Z, ${p.quick ? 'quick' : 'full'} run of ` +
    `${seconds.toFixed(0)} s, Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'CPU'}, load ${load})`;
  return [title, '', speed, '', cpuTable, '', memory, '', targets, '', ...notes.map((n) => `- ${n}`)].join('\n');
}
