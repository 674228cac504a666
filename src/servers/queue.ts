// The waiting line for spawns that arrive while the hub is at its active_server_limit or concurrent_spawn_limit: first
// come, first served. The lifecycle takes from the head whenever a slot frees. A visitor keeps their place only while
// their queue page keeps asking about it, so a closed tab does not hold a place forever.
import type { UserRef } from './lifecycle-types.ts';

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

  constructor(opts: { idleMs?: number; now?: () => number } = {}) {
    this.idleMs = opts.idleMs ?? QUEUE_IDLE_MS;
    this.now = opts.now ?? Date.now;
  }

  /** Joins the line at the back, or keeps the place already held (and marks it seen). */
  enqueue(user: UserRef, serverName: string, options: Record<string, unknown> | undefined): QueuedSpawn {
    this.prune();
    const k = key(user.name, serverName);
    const held = this.entries.get(k);
    const t = this.now();
    if (held) {
      held.lastSeen = t;
      if (options !== undefined) held.options = options;
      return held;
    }
    const entry: QueuedSpawn = { user, serverName, options, enqueued: t, lastSeen: t };
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
    return this.entries.delete(key(userName, serverName));
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

  clear(): void {
    this.entries.clear();
  }

  /** Drops places whose page stopped asking (the visitor left). */
  private prune(): void {
    if (this.entries.size === 0) return;
    const cutoff = this.now() - this.idleMs;
    for (const [k, e] of this.entries) if (e.lastSeen < cutoff) this.entries.delete(k);
  }
}
