// How many local servers may be booting (started, not yet answering) at once. A jupyter-server spends about half a
// second of CPU importing Python before it answers; fifty started together on two cores share the CPU until all of
// them answer at about the same moment, after fifty times that. Let in a few at a time, the first ones answer within
// a second and the last ones no later than before. A place is given back when the server answers or fails, and in any
// case after `holdMs`, so a server that hangs while booting delays the ones behind it by that much at most.
//
// A preloaded jupyterhub-singleuser (LocalProcessSpawner.preload) needs ~30 ms of CPU instead, and then the limit does
// not matter: 50 at once were all ready after 1.96–2.6 s with 4, 8, 16 or 64 places (4 rounds each, interleaved;
// medians 2.10, 2.04, 2.10, 2.17 s). The limit stays for what still boots slowly: other commands, preload off.
import os from 'node:os';

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
