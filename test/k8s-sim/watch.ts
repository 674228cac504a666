// Watch streams: newline-delimited JSON events over a chunked 200 response whose headers are flushed at once (the
// client's informer waits for them). Supports replay from a resourceVersion, synthetic ADDED for "now" and "0",
// selector transitions (entering = ADDED, leaving = DELETED), bookmarks, timeouts, and the faults tests inject.
import type { ServerResponse } from 'node:http';
import { tooOldResourceVersion, type ApiError } from './errors.ts';
import { apiVersionOf, type ResourceDef } from './resources.ts';
import type { Matcher, RequestMatcher } from './selectors.ts';
import type { Store } from './store.ts';
import type { Change, KObject } from './types.ts';

export interface WatchRequest {
  resource: ResourceDef;
  matcher: RequestMatcher;
  /** undefined or "" = start now with synthetic ADDED; "0" = same; else replay strictly after it */
  resourceVersion?: string;
  allowBookmarks: boolean;
  sendInitialEvents: boolean;
  timeoutMs: number;
}

interface Stream {
  res: ServerResponse;
  stalled: boolean;
  /** lines held back while the watches are held, written in one chunk on release */
  held: string[];
  close: () => void;
}

type Event = { type: string; object: unknown };

/** The watch event for a change as seen through a selector, or null when the watcher should not see it. */
export function viewChange(change: Change, matcher: Matcher): Event | null {
  const now = change.type !== 'DELETED' && matcher(change.object);
  const before = change.old ? matcher(change.old) : false;
  if (change.type === 'DELETED') return before ? { type: 'DELETED', object: change.object } : null;
  if (now && before) return { type: 'MODIFIED', object: change.object };
  if (now) return { type: 'ADDED', object: change.object };
  if (before) return { type: 'DELETED', object: change.object };
  return null;
}

export class Watches {
  private readonly streams = new Set<Stream>();
  private readonly store: Store;
  private readonly bookmarkMs: number;
  /** new streams send nothing while set (a network black hole) */
  stallNew = false;
  /** answer the next N watches with a 410 ERROR event */
  expireNext = 0;
  /** while set, events are buffered per stream and written together by release() (one read on the client side) */
  holding = false;

  constructor(store: Store, bookmarkMs: number) {
    this.store = store;
    this.bookmarkMs = bookmarkMs;
  }

  get open(): number {
    return this.streams.size;
  }

  serve(req: WatchRequest, res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'application/json',
      'cache-control': 'no-cache, private',
      'transfer-encoding': 'chunked',
    });
    res.flushHeaders();
    let ended = false;
    const timers: NodeJS.Timeout[] = [];
    const stream: Stream = {
      res,
      stalled: this.stallNew,
      held: [],
      close: () => {
        if (ended) return;
        ended = true;
        unsubscribe();
        timers.forEach(clearTimeout);
        timers.forEach(clearInterval);
        this.streams.delete(stream);
        if (!res.writableEnded) res.end();
      },
    };
    let unsubscribe = (): void => {};
    const send = (event: Event): void => {
      if (ended || stream.stalled) return;
      if (this.holding) stream.held.push(`${JSON.stringify(event)}\n`);
      else res.write(`${JSON.stringify(event)}\n`);
    };
    this.streams.add(stream);
    res.on('close', stream.close);

    if (this.expireNext > 0) {
      this.expireNext--;
      return this.fail(stream, tooOldResourceVersion(req.resourceVersion ?? '0', this.store.currentRv));
    }
    const rv = req.resourceVersion;
    if (rv === undefined || rv === '' || rv === '0' || req.sendInitialEvents) {
      for (const obj of this.store.view(req.resource.id, req.matcher)) send({ type: 'ADDED', object: obj });
      if (req.sendInitialEvents && req.allowBookmarks) {
        send(this.bookmark(req.resource, { 'k8s.io/initial-events-end': 'true' }));
      }
    } else {
      let replay: readonly Change[];
      try {
        replay = this.store.changesSince(Number(rv), req.resource.id);
      } catch (err) {
        return this.fail(stream, err as ApiError);
      }
      for (const change of replay) {
        const ev = viewChange(change, req.matcher);
        if (ev) send(ev);
      }
    }
    unsubscribe = this.store.subscribe((change) => {
      const ev = viewChange(change, req.matcher);
      if (ev) send(ev);
    }, { resource: req.resource.id, field: req.matcher.field });
    // A stalled stream is a dead connection: it does not even end on its timeout.
    timers.push(setTimeout(() => stream.stalled || stream.close(), req.timeoutMs));
    if (req.allowBookmarks) timers.push(setInterval(() => send(this.bookmark(req.resource)), this.bookmarkMs));
  }

  private bookmark(resource: ResourceDef, annotations?: Record<string, string>): Event {
    const metadata: KObject['metadata'] = { resourceVersion: String(this.store.currentRv) };
    if (annotations) metadata.annotations = annotations;
    return { type: 'BOOKMARK', object: { kind: resource.kind, apiVersion: apiVersionOf(resource), metadata } };
  }

  /** The API server's answer to a too-old resourceVersion: an ERROR event with the Status, then end of stream. */
  private fail(stream: Stream, err: ApiError): void {
    if (!stream.stalled) stream.res.write(`${JSON.stringify({ type: 'ERROR', object: err.status })}\n`);
    stream.close();
  }

  /** Writes what each stream held back as one chunk, and stops holding. Returns the number of events written. */
  release(): number {
    this.holding = false;
    let n = 0;
    for (const s of this.streams) {
      if (!s.held.length) continue;
      n += s.held.length;
      if (!s.stalled) s.res.write(s.held.join(''));
      s.held = [];
    }
    return n;
  }

  /** Ends every open stream cleanly (clients see a normal end of stream). */
  dropAll(): number {
    const n = this.streams.size;
    for (const s of [...this.streams]) s.close();
    return n;
  }

  /** Ends every open stream with an ERROR 410 event, as after an etcd compaction. */
  expireAll(): number {
    const n = this.streams.size;
    for (const s of [...this.streams]) this.fail(s, tooOldResourceVersion(0, this.store.currentRv));
    return n;
  }

  /** Existing streams go silent forever (and new ones too while `stallNew`), keeping their connections open. */
  stallAll(): void {
    for (const s of this.streams) s.stalled = true;
  }

  /** Hard-closes every stream (used at shutdown and during an outage). */
  destroyAll(): void {
    for (const s of [...this.streams]) {
      s.close();
      s.res.destroy();
    }
  }
}
