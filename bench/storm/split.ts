// How many real jupyterhub-singleuser servers with real kernels this machine holds during a storm, measured rather
// than guessed: one classic-notebook server is started alone, a kernel started in it and a cell run over its websocket,
// then the memory (PSS, so shared library pages are not counted once per process) and CPU time of the server and its
// kernel are read from /proc. The number of real servers is the smallest of
//   - memory: the share of MemAvailable we allow ourselves (the machine is shared), after what the rest of the run
//     needs (hubs, the mock mux, Chromium), ÷ PSS per server+kernel;
//   - CPU at start: the share of the cores we allow for starting servers and kernels over the arrival window
//     ÷ CPU seconds per server+kernel start (a visitor's first cell waits on this, so it bounds the storm's latency);
//   - the cap given with --max-real.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { cpus } from 'node:os';
import WebSocket from 'ws';
import { freePort } from '../lib/ports.ts';
import { makeTempDir, waitForUrl } from '../lib/procs.ts';

export interface Calibration { pssMiB: number; serverCpuS: number; kernelCpuS: number; startMs: number }
export interface Split { real: number; byMemory: number; byCpu: number; cap: number; calibration: Calibration; why: string }

const TICK = 100;
function cpuS(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / TICK;
}
function pssMiB(pid: number): number {
  const m = /^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (Number(readFileSync(`/proc/${e}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]) === pid) out.push(Number(e));
    } catch { /* gone */ }
  }
  return out;
}
export function memAvailableMiB(): number {
  return Number(/^MemAvailable:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'))![1]) / 1024;
}

export async function calibrate(): Promise<Calibration> {
  const dir = makeTempDir('storm-calibrate');
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn('/usr/bin/python3', ['-m', 'notebook', '--no-browser', '--allow-root', `--port=${port}`, '--ip=127.0.0.1',
    '--NotebookApp.token=', '--NotebookApp.disable_check_xsrf=True', `--notebook-dir=${dir}`], { cwd: dir, stdio: 'ignore', env: { PATH: process.env.PATH, HOME: dir } });
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitForUrl(`${base}/api/status`, { timeoutMs: 60_000, accept: (s) => s === 200 });
    const { id } = await (await fetch(`${base}/api/kernels`, { method: 'POST', body: '{"name":"python3"}' })).json() as { id: string };
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/kernels/${id}/channels`);
    await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
    const msgId = randomUUID();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('calibration: no cell output in 60 s')), 60_000);
      ws.on('message', (d) => {
        const m = JSON.parse(String(d));
        if (m.parent_header?.msg_id === msgId && m.header.msg_type === 'status' && m.content.execution_state === 'idle') { clearTimeout(timer); resolve(); }
      });
      ws.send(JSON.stringify({ header: { msg_id: msgId, msg_type: 'execute_request', session: randomUUID(), username: 'c', version: '5.3' },
        parent_header: {}, metadata: {}, channel: 'shell', content: { code: 'print(1)', silent: false, store_history: false, user_expressions: {}, allow_stdin: false } }));
    });
    const startMs = performance.now() - t0;
    // let the server and kernel settle into their idle footprint
    await new Promise((r) => setTimeout(r, 1000));
    const kernels = childrenOf(child.pid!);
    ws.close();
    return {
      pssMiB: pssMiB(child.pid!) + kernels.reduce((a, k) => a + pssMiB(k), 0),
      serverCpuS: cpuS(child.pid!), kernelCpuS: kernels.reduce((a, k) => a + cpuS(k), 0), startMs,
    };
  } finally {
    for (const k of childrenOf(child.pid!)) try { process.kill(k, 'SIGKILL'); } catch { /* gone */ }
    child.kill('SIGKILL');
  }
}

export interface SplitInput { visitors: number; overS: number; maxReal: number; memShare: number; cpuShare: number; reserveMiB: number; fixed?: number }

export async function chooseSplit(input: SplitInput): Promise<Split> {
  const c = await calibrate();
  const budgetMiB = memAvailableMiB() * input.memShare - input.reserveMiB;
  const byMemory = Math.max(0, Math.floor(budgetMiB / c.pssMiB));
  const byCpu = Math.max(0, Math.floor((input.cpuShare * cpus().length * input.overS) / (c.serverCpuS + c.kernelCpuS)));
  const auto = Math.min(byMemory, byCpu, input.maxReal, input.visitors);
  // a number given by hand is still held to what memory allows
  const real = input.fixed === undefined ? auto : Math.min(input.fixed, byMemory, input.visitors);
  const limiter = real === input.visitors ? 'every visitor' : input.fixed !== undefined ? (real < input.fixed ? 'memory' : '--real')
    : real === byCpu ? 'CPU at start' : real === byMemory ? 'memory' : '--max-real';
  const why = `one server+kernel: ${c.pssMiB.toFixed(0)} MiB PSS, ${c.serverCpuS.toFixed(2)} s + ${c.kernelCpuS.toFixed(2)} s CPU (server + kernel), `
    + `first cell after ${(c.startMs / 1000).toFixed(1)} s alone; memory allows ${byMemory} (${(input.memShare * 100).toFixed(0)} % of MemAvailable less ${input.reserveMiB} MiB), `
    + `CPU at start ${byCpu} (${(input.cpuShare * 100).toFixed(0)} % of ${cpus().length} cores over ${input.overS} s), cap ${input.maxReal}: limited by ${limiter}`;
  return { real, byMemory, byCpu, cap: input.maxReal, calibration: c, why };
}
