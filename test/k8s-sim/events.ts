// Kubernetes Events as the scheduler and kubelet record them, in the two timestamp styles of spec 6.8 (kubelet:
// first/lastTimestamp; scheduler: eventTime only), deduplicated by bumping `count`, and expiring after a TTL.
import { randomUUID } from 'node:crypto';
import { nowIso } from './api.ts';
import type { Store } from './store.ts';
import type { KObject } from './types.ts';

export interface EventInput {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  /** e.g. "spec.containers{notebook}" */
  fieldPath?: string;
  /** kubelet and controllers report with a node/host; the scheduler with eventTime */
  style: 'kubelet' | 'scheduler' | 'controller';
  component?: string;
  host?: string;
  action?: string;
}

let sequence = 0;

/** eventTime carries microseconds (MicroTime); JS clocks have milliseconds, so the last three digits are zero. */
function microTime(): string {
  return new Date().toISOString().replace(/Z$/, '000Z');
}

export class EventRecorder {
  private readonly store: Store;
  private readonly ttlMs: number;
  private readonly timer: NodeJS.Timeout;
  /**
   * The event each (object, reason, message, type, source, fieldPath) was last recorded as: finding the one to bump
   * must not scan the namespace's events (with 50,000 of them, that scan was most of a 200-pod burst's time).
   */
  private readonly recorded = new Map<string, { ns: string; name: string }>();

  constructor(store: Store, ttlMs: number) {
    this.store = store;
    this.ttlMs = ttlMs;
    this.timer = setInterval(() => this.expire(), Math.min(ttlMs, 60_000));
    this.timer.unref();
  }

  record(involved: KObject, input: EventInput): KObject {
    const ns = involved.metadata.namespace ?? 'default';
    const involvedObject: Record<string, unknown> = {
      kind: involved.kind,
      namespace: involved.metadata.namespace,
      name: involved.metadata.name,
      uid: involved.metadata.uid,
      apiVersion: involved.apiVersion,
      resourceVersion: involved.metadata.resourceVersion,
    };
    if (input.fieldPath) involvedObject.fieldPath = input.fieldPath;
    const component = input.component ?? (input.style === 'scheduler' ? 'default-scheduler' : 'kubelet');
    const key = JSON.stringify([ns, involved.metadata.uid, input.reason, input.message, input.type, component, input.fieldPath ?? '']);
    const where = this.recorded.get(key);
    // gone (expired, deleted) or replaced by another object of that name: a new event
    const found = where ? this.store.get('events', where.ns, where.name) as any : undefined;
    const same = found?.involvedObject?.uid === involved.metadata.uid ? found : undefined;
    if (same) {
      same.count = (same.count ?? 1) + 1;
      if (input.style === 'scheduler') same.series = { count: same.count, lastObservedTime: microTime() };
      else same.lastTimestamp = nowIso();
      same.involvedObject = involvedObject;
      return this.store.update('events', same);
    }
    const now = nowIso();
    const event: KObject = {
      kind: 'Event',
      apiVersion: 'v1',
      metadata: {
        name: `${involved.metadata.name}.${(BigInt(Date.now()) * 1_000_000n + BigInt(++sequence % 1_000_000)).toString(16)}`,
        namespace: ns,
        uid: randomUUID(),
        creationTimestamp: now,
      },
      involvedObject,
      reason: input.reason,
      message: input.message,
      type: input.type,
      count: 1,
      reportingComponent: component,
      reportingInstance: input.style === 'scheduler' ? `${component}-${input.host ?? 'sim'}` : (input.host ?? ''),
    };
    if (input.style === 'scheduler') {
      Object.assign(event, { source: {}, eventTime: microTime(), firstTimestamp: null, lastTimestamp: null });
      if (input.action) event.action = input.action;
    } else {
      const source: Record<string, string> = { component };
      if (input.host) source.host = input.host;
      Object.assign(event, { source, firstTimestamp: now, lastTimestamp: now, eventTime: null });
    }
    this.recorded.set(key, { ns, name: event.metadata.name as string });
    return this.store.create('events', event);
  }

  private expire(): void {
    const cutoff = Date.now() - this.ttlMs;
    for (const e of this.store.view('events') as any[]) {
      const last = e.lastTimestamp ?? e.series?.lastObservedTime ?? e.eventTime ?? e.metadata.creationTimestamp;
      if (Date.parse(last) < cutoff) this.store.remove('events', e.metadata.namespace, e.metadata.name);
    }
    for (const [key, where] of this.recorded) if (!this.store.get('events', where.ns, where.name)) this.recorded.delete(key);
  }

  close(): void {
    clearInterval(this.timer);
  }
}
