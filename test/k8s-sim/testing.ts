// A small fetch-based client for tests of the simulator itself (the spawner's tests use @kubernetes/client-node):
// JSON requests with the bearer token, and a watch reader that collects events and can wait for one.

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface WatchEvent {
  type: string;
  object: any;
}

export interface WatchReader {
  events: WatchEvent[];
  /** HTTP status of the watch response */
  status: number;
  /** resolves when the server ends the stream (not when close() aborts it) */
  ended: Promise<void>;
  /** waits for the first event (from the start of the stream) matching `pred` */
  next(pred: (e: WatchEvent) => boolean, timeoutMs?: number): Promise<WatchEvent>;
  close(): void;
}

export class TestClient {
  readonly url: string;
  readonly token: string | null;

  constructor(url: string, token: string | null) {
    this.url = url;
    this.token = token;
  }

  private headers(contentType = 'application/json'): Record<string, string> {
    const h: Record<string, string> = { 'content-type': contentType, accept: 'application/json' };
    if (this.token) h.authorization = `Bearer ${this.token}`;
    return h;
  }

  async request<T = any>(method: string, path: string, body?: unknown, contentType?: string): Promise<Reply<T>> {
    const res = await fetch(this.url + path, {
      method,
      headers: this.headers(contentType),
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: any = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // plain text (logs, health)
    }
    return { status: res.status, body: parsed, headers: res.headers };
  }

  get<T = any>(path: string): Promise<Reply<T>> {
    return this.request('GET', path);
  }

  post<T = any>(path: string, body: unknown): Promise<Reply<T>> {
    return this.request('POST', path, body);
  }

  put<T = any>(path: string, body: unknown): Promise<Reply<T>> {
    return this.request('PUT', path, body);
  }

  patch<T = any>(path: string, body: unknown, contentType = 'application/merge-patch+json'): Promise<Reply<T>> {
    return this.request('PATCH', path, body, contentType);
  }

  delete<T = any>(path: string, body?: unknown): Promise<Reply<T>> {
    return this.request('DELETE', path, body);
  }

  /** Opens `path` with watch=true; `path` may carry more query parameters. */
  async watch(path: string): Promise<WatchReader> {
    const controller = new AbortController();
    const sep = path.includes('?') ? '&' : '?';
    const res = await fetch(`${this.url}${path}${sep}watch=true`, { headers: this.headers(), signal: controller.signal });
    const events: WatchEvent[] = [];
    const waiters = new Set<() => void>();
    const notify = (): void => waiters.forEach((w) => w());
    if (res.status !== 200) events.push({ type: 'HTTP', object: await res.json().catch(() => null) });
    const ended = (async () => {
      if (!res.body || res.bodyUsed) return;
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let i: number;
          while ((i = buffer.indexOf('\n')) >= 0) {
            const line = buffer.slice(0, i).trim();
            buffer = buffer.slice(i + 1);
            if (line) events.push(JSON.parse(line));
          }
          notify();
        }
      } catch {
        // aborted by close()
      }
      notify();
    })();
    let closed = false;
    ended.then(() => (closed = true));
    return {
      events,
      status: res.status,
      ended,
      close: () => controller.abort(),
      next(pred, timeoutMs = 5000) {
        return new Promise((resolve, reject) => {
          const check = (): void => {
            const found = events.find(pred);
            if (found) {
              done();
              resolve(found);
            } else if (closed) {
              done();
              reject(new Error(`watch ended without the expected event; got ${events.map((e) => e.type).join(',')}`));
            }
          };
          const timer = setTimeout(() => {
            done();
            reject(new Error(`no matching watch event in ${timeoutMs} ms; got ${events.map((e) => `${e.type}:${e.object?.metadata?.name ?? ''}`).join(',')}`));
          }, timeoutMs);
          const done = (): void => {
            clearTimeout(timer);
            waiters.delete(check);
          };
          waiters.add(check);
          check();
        });
      },
    };
  }
}

/** A pod manifest with one container; `command` runs as a real process. */
export function podManifest(name: string, command: string[], extra: { image?: string; ports?: number[]; labels?: Record<string, string>; restartPolicy?: string; env?: unknown[]; grace?: number; spec?: Record<string, unknown> } = {}): any {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: extra.labels ?? {} },
    spec: {
      automountServiceAccountToken: false,
      restartPolicy: extra.restartPolicy ?? 'Always',
      terminationGracePeriodSeconds: extra.grace ?? 30,
      containers: [{
        name: 'notebook',
        image: extra.image ?? 'sim/notebook:1',
        command,
        env: extra.env ?? [],
        ports: (extra.ports ?? []).map((p) => ({ containerPort: p })),
      }],
      ...(extra.spec ?? {}),
    },
  };
}

/** A long-running process that exits on SIGTERM. */
export const SLEEPER = ['sleep', '60'];
/** A process (and its child) that ignores SIGTERM, so only SIGKILL ends it. */
export const STUBBORN = ['sh', '-c', 'trap "" TERM; sleep 60'];
/** An HTTP server on $POD_IP:8888 answering with its address and the value of $GREETING. */
export const HTTP_SERVER = [
  process.execPath,
  '-e',
  "require('http').createServer((q, s) => s.end(process.env.POD_IP + ' ' + (process.env.GREETING || ''))).listen(8888, process.env.POD_IP)",
];
export const POD_IP_ENV = { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } };
