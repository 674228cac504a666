// The storm's figures, as Markdown: one column per hub of the run, the ratio to JupyterHub where both ran.
import { percentile } from '../lib/stats.ts';
import type { StormRun } from './run.ts';
import type { VisitorResult } from './visitor.ts';

export interface Figures {
  served: number;
  n: number;
  p50: number | null;
  p95: number | null;
  max: number | null;
  failed: number;
  lines: Map<string, string>;
}

const s = (ms: number | null) => (ms === null ? 'n/a' : `${(ms / 1000).toFixed(2)} s`);
const times = (rs: VisitorResult[]) => rs.map((r) => r.firstOutputMs).filter((x): x is number => x !== null);
const p = (rs: VisitorResult[]) => {
  const t = times(rs);
  return t.length ? `${s(percentile(t, 50))} / ${s(percentile(t, 95))} / ${s(Math.max(...t))} (n ${t.length})` : 'n/a';
};

/**
 * Queued visitors someone overtook: a visitor who entered the queue more than a second later (as the visitors saw the
 * queue page) whose spawn the hub began earlier (its own `started`). Where the hub's start times are missing, when the
 * visitors' pages left the queue (noisier: a page sees the start only at its next reload).
 */
function overtaken(results: VisitorResult[]): { n: number; by: 'hub' | 'page' } {
  const q = results.filter((r) => r.queued && r.enteredQueue !== null);
  const byHub = q.every((r) => r.spawnStarted != null);
  const out = (r: VisitorResult) => (byHub ? r.spawnStarted! : r.leftQueue);
  const judged = q.filter((r) => out(r) !== null).sort((a, b) => a.enteredQueue! - b.enteredQueue!);
  let n = 0;
  for (let i = 0; i < judged.length; i++) {
    for (let j = i + 1; j < judged.length; j++) {
      if (judged[j]!.enteredQueue! > judged[i]!.enteredQueue! + 1000 && out(judged[j]!)! < out(judged[i]!)!) { n++; break; }
    }
  }
  return { n, by: byHub ? 'hub' : 'page' };
}

/** The old measure, kept beside it: left the queue (as the page saw it) more than a second after a later entrant. */
function overtakenByPage(results: VisitorResult[]): number {
  const q = results.filter((r) => r.queued && r.leftQueue !== null && r.enteredQueue !== null).sort((a, b) => a.enteredQueue! - b.enteredQueue!);
  let n = 0;
  for (let i = 0; i < q.length; i++) {
    for (let j = i + 1; j < q.length; j++) if (q[j]!.leftQueue! < q[i]!.leftQueue! - 1000) { n++; break; }
  }
  return n;
}

export function figures(run: StormRun, joinedAt: number | null): Figures {
  const rs = run.results;
  const t = times(rs);
  const failed = rs.filter((r) => r.errors.length);
  const lines = new Map<string, string>();
  const real = rs.filter((r) => r.kind === 'real');
  const mock = rs.filter((r) => r.kind === 'mock');
  const chromium = rs.filter((r) => run.chromiumIds.has(r.id));
  lines.set('served (first cell output) / visitors', `${t.length} / ${rs.length}`);
  lines.set('servers real / mock', `${real.length} / ${mock.length}`);
  lines.set('first request → cell output p50 / p95 / max', t.length ? `${s(percentile(t, 50))} / ${s(percentile(t, 95))} / ${s(Math.max(...t))}` : 'n/a');
  const srv = rs.map((r) => r.serverMs).filter((x): x is number => x !== null);
  lines.set('… of which to the server\'s first page p50 / p95', srv.length ? `${s(percentile(srv, 50))} / ${s(percentile(srv, 95))}` : 'n/a');
  lines.set('… real servers', p(real));
  lines.set('… mock servers', p(mock));
  lines.set('… Chromium sample (served / in sample)', `${p(chromium)}; ${chromium.filter((r) => r.firstOutputMs !== null).length} / ${chromium.length}`);
  if (run.outage) {
    const during = rs.filter((r) => r.arrived >= run.outage!.from && r.arrived <= run.outage!.to);
    lines.set(`arrived during the ${((run.outage.to - run.outage.from) / 1000).toFixed(1)} s outage: p50 / p95 / max`, p(during));
  }
  if (joinedAt !== null) {
    const reached = rs.filter((r) => r.firstOutputMs !== null).map((r) => r.arrived + r.firstOutputMs!);
    lines.set('last first-cell output after the nodes joined', reached.length ? s(Math.max(...reached) - joinedAt) : 'n/a');
    // those who were already waiting when the nodes joined: how long after the join their first cell came
    const waited = rs.filter((r) => r.arrived < joinedAt && r.firstOutputMs !== null).map((r) => Math.max(0, r.arrived + r.firstOutputMs! - joinedAt));
    lines.set('… arrived before the nodes joined: join → first cell p50 / p95 / max', waited.length
      ? `${s(percentile(waited, 50))} / ${s(percentile(waited, 95))} / ${s(Math.max(...waited))} (n ${waited.length})` : 'n/a');
  }
  lines.set('visitors with a failure', String(failed.length));
  const q = rs.filter((r) => r.queued);
  const ot = overtaken(rs);
  lines.set('queued / overtaken by a later entrant (the hub\'s order of starting spawns)', `${q.length} / ${ot.n}${ot.by === 'page' ? ' (by the pages: the hub\'s start times were not read)' : ''}`);
  lines.set('… left the queue page > 1 s after a later entrant (the pages\' polling)', String(overtakenByPage(rs)));
  lines.set('websocket reconnects', String(rs.reduce((a, r) => a + r.reconnects, 0)));
  lines.set('kernels answering after the soak', `${rs.filter((r) => r.firstOutputMs !== null && !r.errors.some((e) => /soak/.test(e))).length} / ${rs.length}`);
  const cpu = run.samples.map((x) => x.cpuPct);
  lines.set('hub CPU peak / mean (2 s samples)', cpu.length ? `${Math.max(...cpu).toFixed(0)} % / ${(cpu.reduce((a, b) => a + b, 0) / cpu.length).toFixed(0)} %` : 'n/a');
  lines.set('hub RSS peak / after the soak', `${run.samples.length ? Math.max(...run.samples.map((x) => x.rssMiB)).toFixed(0) : 'n/a'} / ${run.rssAfterMiB.toFixed(0)} MiB`);
  lines.set('server processes without a running server (orphans)', String(run.orphans));
  lines.set('load average at the end', run.loadavg);
  return { served: t.length, n: rs.length, p50: t.length ? percentile(t, 50) : null, p95: t.length ? percentile(t, 95) : null, max: t.length ? Math.max(...t) : null, failed: failed.length, lines };
}

export function render(runs: Array<{ run: StormRun; fig: Figures }>): string {
  const out: string[] = [];
  const header = ['figure', ...runs.map((r) => r.run.hub)];
  out.push(`| ${header.join(' | ')} |`, `| ${header.map((_, i) => (i ? '---:' : '---')).join(' | ')} |`);
  const keys = [...new Set(runs.flatMap((r) => [...r.fig.lines.keys()]))];
  for (const k of keys) out.push(`| ${k} | ${runs.map((r) => r.fig.lines.get(k) ?? '').join(' | ')} |`);
  const nh = runs.find((r) => r.run.hub.startsWith('nodehub'));
  const jh = runs.find((r) => r.run.hub.startsWith('JupyterHub'));
  if (nh && jh) {
    const ratio = (a: number | null, b: number | null) => (a !== null && b !== null && b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a');
    out.push('', `nodehub ÷ JupyterHub: served ${nh.fig.served}/${nh.fig.n} vs ${jh.fig.served}/${jh.fig.n}; p50 ${ratio(nh.fig.p50, jh.fig.p50)}, `
      + `p95 ${ratio(nh.fig.p95, jh.fig.p95)}, max ${ratio(nh.fig.max, jh.fig.max)}; failures ${nh.fig.failed} vs ${jh.fig.failed}`);
  }
  for (const { run } of runs) {
    const kinds = new Map<string, number>();
    for (const r of run.results) for (const e of new Set(r.errors.map((x) => x.replace(/[0-9a-f-]{36}|storm-\d+/g, '<user>')))) kinds.set(e, (kinds.get(e) ?? 0) + 1);
    if (kinds.size) {
      out.push('', `${run.hub}, failures by kind:`);
      for (const [e, n] of [...kinds].sort((a, b) => b[1] - a[1]).slice(0, 12)) out.push(`- ${n}× ${e.slice(0, 220)}`);
    }
    const failed = run.results.filter((r) => r.errors.length);
    if (failed.length) {
      // each one, to look up in the hub's log (kept with BENCH_KEEP_TMP=1): who, what served them, when
      const t0 = Math.min(...run.results.map((r) => r.arrived).filter((t) => t > 0));
      out.push('', `${run.hub}, the first ${Math.min(10, failed.length)} visitors with a failure:`);
      for (const r of failed.slice(0, 10)) {
        const when = (t: number) => `+${((t - t0) / 1000).toFixed(1)} s`;
        out.push(`- visitor ${r.id} (${r.user ?? 'no user'}, ${r.kind ?? 'no server'}, arrived ${when(r.arrived)}, first output ${r.firstOutputMs === null ? 'never' : `${(r.firstOutputMs / 1000).toFixed(1)} s`}): `
          + r.errors.map((e, i) => `${e.slice(0, 160)} at ${r.errorTimes?.[i] ? when(r.errorTimes[i]!) : '?'}`).join('; '));
      }
    }
    if (run.hubLog.length) {
      out.push('', `${run.hub}, its log's warnings and errors by kind:`);
      for (const [m, n] of run.hubLog) out.push(`- ${n}× ${m}`);
    }
    out.push('', `${run.hub}, CPU % and RSS MiB over time (every ~10 s): `
      + run.samples.filter((_, i) => i % 5 === 0).map((x) => `${x.t.toFixed(0)}s ${x.cpuPct.toFixed(0)}% ${x.rssMiB.toFixed(0)}M`).join(' · '));
  }
  return out.join('\n');
}
