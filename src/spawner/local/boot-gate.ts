// How many local servers may be booting (started, not yet answering) at once. A jupyter-server spends about half a
// second of CPU importing Python before it answers; fifty started together on two cores share the CPU until all of
// them answer at about the same moment, after fifty times that. Let in a few at a time, the first ones answer within
// a second and the last ones no later than before. A place is given back when the server answers or fails, and in any
// case after `holdMs`, so a server that hangs while booting delays the ones behind it by that much at most.
//
// A preloaded jupyterhub-singleuser (LocalProcessSpawner.preload) needs ~30 ms of CPU instead, and then the limit does
// not matter: 50 at once were all ready after 1.96–2.6 s with 4, 8, 16 or 64 places (4 rounds each, interleaved;
// medians 2.10, 2.04, 2.10, 2.17 s). The limit stays for what still boots slowly: other commands, preload off.
//
// A place is for CPU: a boot that waits instead (a server that is up but slow to answer over a busy network, a small
// server that needs no imports, a preloaded one) gives its place back once its processes used no CPU tick over two
// sample intervals in a row while others wait (`releaseWhenIdle`). Used, not wanted: on a saturated machine a process
// that only waits its turn for a core is not booting (holding places for such runnable light servers kept a storm at
// 4–9 starts a second while 20 Chromium windows and a load generator shared the two cores). Without this, four places
// and boots of half a second of wall time capped a 1,000-visitor storm at ~7 starts a second with the hub idle
// (bench/RESULTS.md).
import fs from 'node:fs';
import os from 'node:os';
import { processTree } from './listener.ts';

export class BootGate {
  readonly limit: number;
  readonly holdMs: number;
  #booting = 0;
  #line: (() => void)[] = [];

  constructor(limit: number, holdMs: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`BootGate limit must be a positive integer, got ${limit}`);
    this.limit = limit;
    this.holdMs = holdMs;
  }

  /** Servers waiting for a place. */
  get waiting(): number {
    return this.#line.length;
  }

  /** A server entering now would have to wait. */
  get full(): boolean {
    return this.#booting >= this.limit;
  }

  /** Resolves once a place is free, to the function that gives it back (calling it twice is harmless). */
  enter(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(new Error('aborted while waiting to start'));
    if (this.#booting < this.limit) return Promise.resolve(this.#take());
    return new Promise((resolve, reject) => {
      const go = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve(this.#take());
      };
      const onAbort = () => {
        this.#line = this.#line.filter((g) => g !== go);
        reject(new Error('aborted while waiting to start'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#line.push(go);
    });
  }

  #take(): () => void {
    this.#booting++;
    let held = true;
    const leave = () => {
      if (!held) return;
      held = false;
      clearTimeout(timer);
      this.#booting--;
      this.#line.shift()?.();
    };
    const timer = setTimeout(leave, this.holdMs);
    timer.unref();
    return leave;
  }
}

/** Shared by every LocalProcessSpawner of the hub: two booting servers per core keep the cores busy. */
export const localBoots = new BootGate(Math.max(2, 2 * os.availableParallelism()), 5_000);

const IDLE_SAMPLE_MS = 25;

/** CPU ticks used so far by `pids`, from /proc; null when the first one is gone or /proc cannot say. */
function cpuTicks(pids: number[]): number | null {
  let ticks = 0;
  for (const [i, pid] of pids.entries()) {
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    } catch {
      if (i === 0) return null;
      continue; // a child that ended meanwhile
    }
    // after the command name in parentheses (which may hold anything): state, ppid, … utime (14th field), stime (15th)
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks;
}

/**
 * Gives `leave` back once the boot of `pid` (and its children) is not using the CPU: no CPU tick used over two sample
 * intervals in a row while someone waits for a place. Stops at `signal`.
 */
export function releaseWhenIdle(gate: BootGate, pid: number, leave: () => void, signal: AbortSignal): void {
  let last: number | null = null;
  let idleSamples = 0;
  const timer = setInterval(() => {
    if (signal.aborted) return clearInterval(timer);
    if (gate.waiting === 0) {
      last = null;
      idleSamples = 0;
      return;
    }
    const now = cpuTicks(processTree(pid, 32));
    if (now === null) return clearInterval(timer);
    idleSamples = last !== null && now === last ? idleSamples + 1 : 0;
    last = now;
    if (idleSamples >= 2) {
      clearInterval(timer);
      leave();
    }
  }, IDLE_SAMPLE_MS);
  timer.unref();
  signal.addEventListener('abort', () => clearInterval(timer), { once: true });
}

