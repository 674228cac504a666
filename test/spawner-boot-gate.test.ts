// The boot gate lets a few local servers boot at once, in arrival order, and never holds a place forever.
import { describe, expect, it } from 'vitest';
import { readFileSync, rmSync } from 'node:fs';
import { BootGate, localBoots, releaseWhenIdle } from '../src/spawner/local/boot-gate.ts';
import { LocalProcessSpawner } from '../src/spawner/local/spawner.ts';
import { mockInit, tmpRoot } from './support/spawner-fixtures.ts';
import { eventually } from './support/eventually.ts';

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('BootGate', () => {
  it('admits up to the limit at once and the rest in arrival order as places are given back', async () => {
    const gate = new BootGate(2, 60_000);
    const admitted: number[] = [];
    const leaves = new Map<number, () => void>();
    for (const n of [1, 2, 3, 4]) void gate.enter().then((leave) => { admitted.push(n); leaves.set(n, leave); });
    await tick();
    expect(admitted).toEqual([1, 2]);
    expect(gate.full).toBe(true);
    expect(gate.waiting).toBe(2);
    leaves.get(2)!();
    leaves.get(2)!(); // a second call must not free another place
    await tick();
    expect(admitted).toEqual([1, 2, 3]);
    expect(gate.waiting).toBe(1);
    leaves.get(1)!();
    await tick();
    expect(admitted).toEqual([1, 2, 3, 4]);
    leaves.get(3)!();
    leaves.get(4)!();
    expect(gate.full).toBe(false);
  });

  it('drops a waiter whose start is aborted, and refuses one aborted already', async () => {
    const gate = new BootGate(1, 60_000);
    const first = await gate.enter();
    const abort = new AbortController();
    const waiting = gate.enter(abort.signal);
    abort.abort();
    await expect(waiting).rejects.toThrow(/aborted/);
    expect(gate.waiting).toBe(0);
    await expect(gate.enter(abort.signal)).rejects.toThrow(/aborted/);
    first();
    const again = await gate.enter();
    again();
  });

  it('gives a place back by itself after holdMs, so a hanging server only delays the next one', async () => {
    const gate = new BootGate(1, 50);
    await gate.enter(); // never given back by hand
    const t0 = performance.now();
    const next = await gate.enter();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(40);
    next();
  });

  it('rejects a limit that is not a positive integer; the hub-wide gate allows at least two', () => {
    expect(() => new BootGate(0, 1000)).toThrow(/positive integer/);
    expect(() => new BootGate(1.5, 1000)).toThrow(/positive integer/);
    expect(localBoots.limit).toBeGreaterThanOrEqual(2);
  });
});

describe('releaseWhenIdle', () => {
  const spawnProcess = async (script: string) => {
    const { spawn } = await import('node:child_process');
    const child = spawn('/bin/sh', ['-c', script], { stdio: 'ignore' });
    await new Promise((r) => child.once('spawn', r));
    return child;
  };

  it('gives the place of a sleeping boot to the next in line, and keeps a busy one', async () => {
    const gate = new BootGate(2, 60_000);
    const sleeper = await spawnProcess('exec sleep 30');
    // the busy one's work is in a child of the shell: the whole process tree counts
    const busy = await spawnProcess('sh -c "while :; do :; done"; exit 0');
    const done = new AbortController();
    try {
      let sleeperLeft = false;
      let busyLeft = false;
      const sleeperPlace = await gate.enter();
      const busyPlace = await gate.enter();
      releaseWhenIdle(gate, sleeper.pid!, () => { sleeperLeft = true; sleeperPlace(); }, done.signal);
      releaseWhenIdle(gate, busy.pid!, () => { busyLeft = true; busyPlace(); }, done.signal);
      // nobody waits yet: no place is given back
      await new Promise((r) => setTimeout(r, 300));
      expect([sleeperLeft, busyLeft]).toEqual([false, false]);
      const next = await gate.enter(); // waits until the sleeper's place comes back
      expect(sleeperLeft).toBe(true);
      // the busy boot has been sampled many times meanwhile and over the next half second: it keeps its place
      await new Promise((r) => setTimeout(r, 500));
      expect(busyLeft).toBe(false);
      expect(gate.full).toBe(true);
      next();
    } finally {
      done.abort();
      // the loop first (a child of the shell), while the shell is still its parent
      const { execFileSync } = await import('node:child_process');
      try { execFileSync('pkill', ['-KILL', '-P', String(busy.pid)]); } catch { /* gone */ }
      busy.kill('SIGKILL');
      sleeper.kill('SIGKILL');
    }
  });
});

describe('a local spawn and the hub-wide gate', () => {
  it('is launched and recorded while every place is taken, and runs its command only once it has a place', async () => {
    const root = tmpRoot();
    const places = await Promise.all(Array.from({ length: localBoots.limit }, () => localBoots.enter()));
    let recorded: Record<string, unknown> | null = null;
    const s = new LocalProcessSpawner(mockInit(root, { recordState: (state) => { recorded = state; } }));
    const messages: string[] = [];
    const started = s.start();
    const feed = (async () => { for await (const ev of s.progress()) messages.push(ev.message); })();
    try {
      // the launch round trip happened without a place: the child is set up, its pid recorded …
      const pid = await eventually(() => recorded?.pid as number | undefined, 10_000, 10);
      expect(localBoots.waiting).toBe(1);
      // … and it waits for its go-ahead in the launcher's code, not running the server's command yet
      const cmdline = () => readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      expect(cmdline()).not.toContain('mock-singleuser');
      expect(messages).toContain('Waiting for other servers to finish starting…');
      places[0]!();
      await started;
      expect(cmdline()).toContain('mock-singleuser');
    } finally {
      for (const leave of places) leave();
      await s.stop().catch(() => {});
      await feed.catch(() => {});
      rmSync(root, { recursive: true, force: true });
    }
  }, 30_000);
});
