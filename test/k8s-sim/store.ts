// The object store: one global resourceVersion counter shared by every kind (like etcd's revision), a bounded history
// of writes for watch replay and consistent paging, and ordered change notification.
import { expired, tooOldResourceVersion } from './errors.ts';
import type { Change, KObject, WatchType } from './types.ts';

// Stored objects are API objects, plain JSON; a JSON round trip copies them in two thirds of structuredClone's time.
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

export function objectKey(obj: KObject): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
}

function compareKeys(a: KObject, b: KObject): number {
  const an = a.metadata.namespace ?? '';
  const bn = b.metadata.namespace ?? '';
  if (an !== bn) return an < bn ? -1 : 1;
  const a1 = a.metadata.name ?? '';
  const b1 = b.metadata.name ?? '';
  return a1 < b1 ? -1 : a1 > b1 ? 1 : 0;
}

type Listener = (change: Change) => void;

/** What a listener wants: changes of one kind; of those, optionally only objects whose `field` is `value` (before or after). */
export interface Interest {
  resource: string;
  field?: { label: string; value: string; read: (o: KObject) => string | undefined };
}

interface FieldIndex {
  read: (o: KObject) => string | undefined;
  values: Map<string, Map<Listener, number>>;
}

function getOr<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let v = map.get(key);
  if (v === undefined) map.set(key, (v = make()));
  return v;
}

export class Store {
  private rv = 1;
  /** writes newer than `oldest` are all in `history`; older resourceVersions are "compacted" */
  private oldest = 1;
  private history: Change[] = [];
  private readonly data = new Map<string, Map<string, KObject>>();
  // Listeners by what they want, so a write reaches only its own kind's watchers, and a watcher of one object (a pod's
  // events, by field selector) only that object's writes: one pass over every watch per write made the simulator, at
  // 500 starting pods each with its events watch, the bottleneck of a burst (bench/storm, "Kubernetes variant").
  private readonly listeners = new Map<Listener, number>();
  private readonly byResource = new Map<string, Map<Listener, number>>();
  private readonly byField = new Map<string, Map<string, FieldIndex>>();
  private subscriptions = 0;
  private readonly queue: Change[] = [];
  private dispatching = false;
  private readonly historyLimit: number;

  constructor(historyLimit = 10_000) {
    this.historyLimit = historyLimit;
  }

  get currentRv(): number {
    return this.rv;
  }

  /** The oldest resourceVersion a watch or an Exact list can still start from. */
  get oldestRv(): number {
    return this.oldest;
  }

  private bucket(resource: string): Map<string, KObject> {
    let b = this.data.get(resource);
    if (!b) this.data.set(resource, (b = new Map()));
    return b;
  }

  get(resource: string, namespace: string | undefined, name: string): KObject | undefined {
    const obj = this.bucket(resource).get(`${namespace ?? ''}/${name}`);
    return obj ? clone(obj) : undefined;
  }

  /** The stored object itself, for readers that only look (see view()). */
  peek(resource: string, namespace: string | undefined, name: string): KObject | undefined {
    return this.bucket(resource).get(`${namespace ?? ''}/${name}`);
  }

  /** Current objects of a kind in key order (namespace, then name): copies the caller may change. */
  list(resource: string, filter?: (o: KObject) => boolean): KObject[] {
    return this.view(resource, filter).map(clone);
  }

  /**
   * The stored objects themselves, in key order, for readers that only look or serialise (list and watch answers, the
   * scheduler). Stored objects are never changed in place (every write stores a fresh copy), so no copy is needed:
   * copying every object of a kind for each list or scheduling pass made the simulator, not the hub, the bottleneck
   * of a 200-pod burst (bench/k8s-scale.ts).
   */
  view(resource: string, filter?: (o: KObject) => boolean): readonly KObject[] {
    const out: KObject[] = [];
    for (const o of this.bucket(resource).values()) if (!filter || filter(o)) out.push(o);
    return out.sort(compareKeys);
  }

  create(resource: string, obj: KObject): KObject {
    return this.write(resource, 'ADDED', obj);
  }

  update(resource: string, obj: KObject): KObject {
    return this.write(resource, 'MODIFIED', obj);
  }

  /** update() for a writer that hands the object over (a fresh copy it will not touch again) and only reads the
   * answer: neither is copied. The simulated controllers' status writes, several per pod start, go this way. */
  updateOwned(resource: string, obj: KObject): KObject {
    return this.write(resource, 'MODIFIED', obj, true);
  }

  /** A copy the caller may change. */
  copy<T>(obj: T): T {
    return clone(obj);
  }

  /** Removes the object; the DELETED event carries its last state with the deletion's resourceVersion. */
  remove(resource: string, namespace: string | undefined, name: string): KObject | undefined {
    const current = this.bucket(resource).get(`${namespace ?? ''}/${name}`);
    if (!current) return undefined;
    return this.write(resource, 'DELETED', current);
  }

  private write(resource: string, type: WatchType, input: KObject, owned = false): KObject {
    const bucket = this.bucket(resource);
    const key = objectKey(input);
    const old = bucket.get(key);
    if (type === 'ADDED' && old) throw new Error(`k8s-sim store: ${resource} ${key} exists`);
    if (type !== 'ADDED' && !old) throw new Error(`k8s-sim store: ${resource} ${key} missing`);
    const obj = owned ? input : clone(input);
    obj.metadata.resourceVersion = String(++this.rv);
    if (type === 'DELETED') bucket.delete(key);
    else bucket.set(key, obj);
    const change: Change = { rv: this.rv, resource, type, object: obj };
    if (old) change.old = old;
    this.history.push(change);
    if (this.history.length > this.historyLimit) {
      const dropped = this.history.splice(0, this.history.length - this.historyLimit);
      this.oldest = dropped[dropped.length - 1].rv;
    }
    this.dispatch(change);
    return owned ? obj : clone(obj);
  }

  /** Listeners see changes in resourceVersion order even when a listener writes while being notified; each change
   * reaches its listeners in the order they subscribed. */
  private dispatch(change: Change): void {
    this.queue.push(change);
    if (this.dispatching) return;
    this.dispatching = true;
    try {
      while (this.queue.length) {
        const next = this.queue.shift() as Change;
        for (const fn of this.targets(next)) {
          try {
            fn(next);
          } catch (err) {
            console.error('k8s-sim: change listener failed', err);
          }
        }
      }
    } finally {
      this.dispatching = false;
    }
  }

  private targets(change: Change): Listener[] {
    const found = new Map<Listener, number>(this.listeners);
    for (const [fn, n] of this.byResource.get(change.resource) ?? []) found.set(fn, n);
    for (const index of this.byField.get(change.resource)?.values() ?? []) {
      for (const o of [change.object, change.old]) {
        const v = o ? index.read(o) : undefined;
        for (const [fn, n] of (v !== undefined && index.values.get(v)) || []) found.set(fn, n);
      }
    }
    return [...found].sort((a, b) => a[1] - b[1]).map(([fn]) => fn);
  }

  /** Every change, or only those `interest` names. */
  subscribe(fn: Listener, interest?: Interest): () => void {
    const n = ++this.subscriptions;
    let set: Map<Listener, number>;
    if (!interest) set = this.listeners;
    else if (!interest.field) set = getOr(this.byResource, interest.resource, () => new Map());
    else {
      const { label, value, read } = interest.field;
      const index = getOr(getOr(this.byField, interest.resource, () => new Map()), label, () => ({ read, values: new Map() }));
      set = getOr(index.values, value, () => new Map());
    }
    set.set(fn, n);
    return () => {
      set.delete(fn);
      if (set.size === 0 && interest?.field) this.byField.get(interest.resource)?.get(interest.field.label)?.values.delete(interest.field.value);
    };
  }

  /** Writes after `rv` (exclusive), for watch replay (read-only: serialised, never changed); 410 if compacted away. */
  changesSince(rv: number, resource: string): readonly Change[] {
    if (rv < this.oldest) throw tooOldResourceVersion(rv, this.oldest);
    const out: Change[] = [];
    // newest last: walk back only as far as needed instead of over the whole history
    for (let i = this.history.length - 1; i >= 0 && this.history[i].rv > rv; i--) {
      if (this.history[i].resource === resource) out.push(this.history[i]);
    }
    return out.reverse();
  }

  /** The objects of a kind as they were at `rv`, rebuilt by undoing newer writes (read-only, as view()); 410 if compacted. */
  snapshotAt(resource: string, rv: number, what = 'resource version'): readonly KObject[] {
    if (rv < this.oldest) {
      throw expired(`The ${what} ${rv} is too old to display a consistent list result (oldest is ${this.oldest}).`);
    }
    const state = new Map<string, KObject>();
    for (const [k, v] of this.bucket(resource)) state.set(k, v);
    for (let i = this.history.length - 1; i >= 0 && this.history[i].rv > rv; i--) {
      const c = this.history[i];
      if (c.resource !== resource) continue;
      const key = objectKey(c.object);
      if (c.old) state.set(key, c.old);
      else state.delete(key);
    }
    return [...state.values()].sort(compareKeys);
  }

  /** Forgets all history: every resourceVersion before now becomes too old (the etcd compaction a test can force). */
  compact(): void {
    this.history = [];
    this.oldest = this.rv;
  }
}
