// Rounds that alternate which system goes first (to spread the machine's noise evenly), stop at a time budget, and
// drop a system from later rounds once it fails. Each round's measurement is the caller's.
import { formatMs } from './stats.ts';

export interface RoundSystem {
  label: string;
  error?: string;
}

export interface RoundOptions<S extends RoundSystem> {
  rounds: number;
  budgetMs: number;
  notes: string[];
  log: (line: string) => void;
  /** Whether the system is up (started) at all. */
  ready: (sys: S) => boolean;
  /** Measures one round for one system; returns the milliseconds to print. */
  measure: (sys: S, round: number) => Promise<number>;
  /** Optional extra step after each round; returns text appended to the round's log line. */
  after?: (round: number) => Promise<string>;
}

export async function runRounds<S extends RoundSystem>(systems: S[], o: RoundOptions<S>): Promise<void> {
  const t0 = performance.now();
  let done = 0;
  for (let round = 0; round < o.rounds; round++) {
    if (performance.now() - t0 > o.budgetMs) {
      o.notes.push(`stopped after ${done} rounds: the ${o.budgetMs / 1000} s time budget ran out`);
      break;
    }
    const order = round % 2 === 0 ? systems : [...systems].reverse();
    const line: string[] = [];
    for (const sys of order) {
      if (!o.ready(sys) || sys.error) continue;
      try {
        line.push(`${sys.label.split(' (')[0]} ${formatMs(await o.measure(sys, round))}`);
      } catch (err) {
        sys.error = `round ${round + 1}: ${(err as Error).message}`;
        line.push(`${sys.label} failed`);
      }
    }
    const extra = o.after ? await o.after(round) : '';
    done++;
    o.log(`round ${round + 1}/${o.rounds}: ${line.join(', ')}${extra}`);
  }
}
