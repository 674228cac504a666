// Progress events of one start, replayable: a reader that subscribes late still sees every event from the beginning,
// and iteration ends when the start settles.
import type { ProgressEvent } from './types.ts';

export class ProgressFeed {
  #events: ProgressEvent[] = [];
  #done = false;
  #wake: (() => void)[] = [];

  /** Forget the previous start's events; readers waiting on a fresh feed (subscribed before start) stay on. */
  reset(): void {
    if (!this.#done && this.#events.length === 0) return;
    this.#events = [];
    this.#done = false;
    this.#notify();
  }

  push(event: ProgressEvent): void {
    if (this.#done) return;
    this.#events.push(event);
    this.#notify();
  }

  end(): void {
    this.#done = true;
    this.#notify();
  }

  async *events(): AsyncGenerator<ProgressEvent> {
    let next = 0;
    const events = this.#events;
    for (;;) {
      // a reset() swaps the array: a reader of the old start stops there
      if (events !== this.#events) return;
      while (next < events.length) yield events[next++]!;
      if (this.#done) return;
      await new Promise<void>((resolve) => this.#wake.push(resolve));
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = [];
    for (const w of wake) w();
  }
}
