// The waiting line for spawns that arrive while the hub is at its active_server_limit or concurrent_spawn_limit: first
// come, first served. The lifecycle takes from the head whenever a slot frees. A visitor keeps their place only while
// their queue page keeps asking about it, so a closed tab does not hold a place forever. Every change is written
// through to the store (when given one), so a hub that is killed and started again takes up the same line: the places
// come back in arrival order and each page gets a fresh QUEUE_IDLE_MS to ask again.
import type { UserRef } from './lifecycle-types.ts';
import type { Store } from '../store/types.ts';

/** How long a place is kept without its page asking for it (the page asks every few seconds). */
export const QUEUE_IDLE_MS = 60_000;

export interface QueuedSpawn {
  user: UserRef;
  serverName: string;
  options: Record<string, unknown> | undefined;
  enqueued: number;
  /** When the visitor's page last asked about this place. */
  lastSeen: number;
}

const key = (user: string, server: string) => `${user}/${server}`;

export class SpawnQueue {
  // A Map keeps insertion order, which is the order of the line.
  private readonly entries = new Map<string, QueuedSpawn>();
  private readonly idleMs: number;
  private readonly now: () => number;
  private readonly persist: Store['spawnQueue'] | undefined;

  /** The store's copy changes in the order the line does: each write waits for the one before (on PostgreSQL two
   *  writes on two pooled connections could otherwise land the other way round). */
  private writes: Promise<void> = Promise.resolve();

  constructor(opts: { idleMs?: number; now?: () => number; persist?: Store['spawnQueue'] } = {}) {
    this.idleMs = opts.idleMs ?? QUEUE_IDLE_MS;
    this.now = opts.now ?? Date.now;
    this.persist = opts.persist;
  }

  /**
   * A restarted hub's line: `first` (spawns that were under way when the hub went down; they had been served before
   * anyone still waiting) ahead of the stored places, each in its order. The stored line is rewritten to match.
   */
  async restore(first: { user: UserRef; serverName: string; options: Record<string, unknown> | undefined }[] = []): Promise<number> {
    const t = this.now();
    const stored = (await this.persist?.list()) ?? [];
    this.entries.clear();
    for (const e of [...first, ...stored]) {
      const k = key(e.user.name, e.serverName);
      if (this.entries.has(k)) continue;
      this.entries.set(k, { user: e.user, serverName: e.serverName, options: e.options, enqueued: 'enqueued' in e ? (e.enqueued as number) : t, lastSeen: t });
    }
    if (this.persist && first.length) {
      const line = [...this.entries.values()];
      this.write(async (p) => {
        await p.clear();
        for (const e of line) await p.add(e.user.id, e.serverName, e.options, e.enqueued);
      });
      await this.writes;
    }
    return this.entries.size;
  }

  /** Joins the line at the back, or keeps the place already held (and marks it seen). */
  enqueue(user: UserRef, serverName: string, options: Record<string, unknown> | undefined): QueuedSpawn {
    this.prune();
    const k = key(user.name, serverName);
    const held = this.entries.get(k);
    const t = this.now();
    if (held) {
      held.lastSeen = t;
      if (options !== undefined) {
        held.options = options;
        this.write((p) => p.add(user.id, serverName, options, held.enqueued));
      }
      return held;
    }
    const entry: QueuedSpawn = { user, serverName, options, enqueued: t, lastSeen: t };
    this.write((p) => p.add(user.id, serverName, options, t));
    this.entries.set(k, entry);
    return entry;
  }

  /** The 1-based place and the length of the line, marking the place seen; null when not in line. */
  place(userName: string, serverName: string): { position: number; total: number } | null {
    this.prune();
    const entry = this.entries.get(key(userName, serverName));
    if (!entry) return null;
    entry.lastSeen = this.now();
    let position = 0;
    for (const e of this.entries.values()) {
      position++;
      if (e === entry) break;
    }
    return { position, total: this.entries.size };
  }

  has(userName: string, serverName: string): boolean {
    this.prune();
    return this.entries.has(key(userName, serverName));
  }

  remove(userName: string, serverName: string): boolean {
    const k = key(userName, serverName);
    const entry = this.entries.get(k);
    if (!entry) return false;
    this.write((p) => p.remove(entry.user.id, serverName));
    return this.entries.delete(k);
  }

  /** The head of the line, left in place. */
  peek(): QueuedSpawn | undefined {
    this.prune();
    const first = this.entries.values().next();
    return first.done ? undefined : first.value;
  }

  get length(): number {
    this.prune();
    return this.entries.size;
  }

  private write(fn: (p: Store['spawnQueue']) => Promise<void>): void {
    const persist = this.persist;
    if (!persist) return;
    // a failed write (the database away for a moment) loses only the copy a restarted hub would read
    this.writes = this.writes.then(() => fn(persist)).catch(() => {});
  }

  /** Resolves once every change so far is in the store (before the hub exits or hands over). */
  flushed(): Promise<void> {
    return this.writes;
  }

  /** Forgets the line in memory (hub shutdown); the stored places stay for the next hub. */
  clear(): void {
    this.entries.clear();
  }

  /** Drops places whose page stopped asking (the visitor left). */
  private prune(): void {
    if (this.entries.size === 0) return;
    const cutoff = this.now() - this.idleMs;
    for (const [k, e] of this.entries) {
      if (e.lastSeen >= cutoff) continue;
      this.entries.delete(k);
      this.write((p) => p.remove(e.user.id, e.serverName));
    }
  }
}
