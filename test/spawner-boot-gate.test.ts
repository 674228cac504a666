// The boot gate lets a few local servers boot at once, in arrival order, and never holds a place forever.
import { describe, expect, it } from 'vitest';
import { BootGate, localBoots } from '../src/spawner/local/boot-gate.ts';

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
