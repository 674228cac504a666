// One storm visitor: a scripted browser (cookie jar, redirects followed) that opens the event link, answers the
// password page, waits out the queue and spawn-pending pages as their scripts do, opens a notebook, starts a kernel and
// runs a cell over its websocket, then keeps the websocket open (reconnecting as JupyterLab does when it drops).
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { Browser, type Page } from '../../test/support/browser.ts';

export interface VisitorPlan {
  id: number;
  origin: string;
  password: string;
  /** The link the visitor opens: the event link or an nbgitpuller link. */
  link: string;
  /** Close the tab after the first cell and come back by the same link. */
  returns: boolean;
  /** Connection refused is waited out (the hub is being restarted) until this time; otherwise it is a failure. */
  outageUntil: () => number;
  /** When the hub was killed (null: not yet, or never). */
  outageFrom?: () => number | null;
  /** How the hub's login page is answered: nodehub's shared password, or JupyterHub's DummyAuthenticator form. */
  login: 'password' | 'dummy';
  /** A journey that has not reached a server by then is a failure (ms). */
  deadlineMs: number;
}

export interface VisitorResult {
  id: number;
  arrived: number;
  /** ms from the first request to the first cell's output; null when it never came. */
  firstOutputMs: number | null;
  /** When the visitor's queue page first moved on (to the pending page or the server), if it was queued. */
  leftQueue: number | null;
  /** When the visitor first saw the queue page: its place in line. */
  enteredQueue: number | null;
  queued: boolean;
  /** When the hub began this visitor's spawn (its API's `started`), read after the soak. */
  spawnStarted?: number | null;
  user: string | null;
  errors: string[];
  /** When each error happened (epoch ms), in the order of errors. */
  errorTimes: number[];
  reconnects: number;
  cells: number;
  /** ms from the first request to the server's first page (the rest is the notebook, kernel and cell). */
  serverMs: number | null;
  /** What served the visitor: a real jupyterhub-singleuser or the mock. */
  kind: 'real' | 'mock' | null;
  /** ms from arrival to each step of the first journey (scripted visitors): where a slow visitor's time went. */
  phases?: Record<string, number>;
}

/** The notebook every visitor saves and opens: one empty code cell on the python3 kernel. */
export const NOTEBOOK = {
  cells: [{ cell_type: 'code', execution_count: null, metadata: {}, outputs: [], source: [] }],
  metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } }, nbformat: 4, nbformat_minor: 5,
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class StormVisitor {
  readonly result: VisitorResult;
  private browser: Browser;
  private ws: WebSocket | null = null;
  private wsUrl = '';
  private closed = false;
  private readonly plan: VisitorPlan;

  constructor(plan: VisitorPlan) {
    this.plan = plan;
    this.browser = new Browser(plan.origin);
    this.result = { id: plan.id, arrived: 0, firstOutputMs: null, leftQueue: null, enteredQueue: null, queued: false, user: null, errors: [], errorTimes: [], reconnects: 0, cells: 0, kind: null, serverMs: null };
  }

  private fail(what: string): void {
    this.result.errors.push(what);
    this.result.errorTimes.push(Date.now());
  }

  /** A navigation that waits out a hub restart (connection refused while the outage lasts) like a reloading tab. */
  private go(url: string, init: Parameters<Browser['go']>[1] = {}): Promise<Page> {
    return this.retrying(() => this.browser.go(url, init));
  }

  /** One request (no redirects), also waiting out a hub restart. */
  private request(url: string, init: Parameters<Browser['request']>[1] = {}): Promise<Response> {
    return this.retrying(() => this.browser.request(url, init));
  }

  private async retrying<T>(fn: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        if (Date.now() > this.plan.outageUntil()) throw err;
        await sleep(250);
      }
    }
  }

  /** Arrive, reach a server and run the first cell. */
  async arrive(): Promise<void> {
    this.result.arrived = Date.now();
    const t0 = performance.now();
    try {
      await this.reachServerAndRun(true);
      this.result.firstOutputMs = performance.now() - t0;
      if (this.plan.returns) {
        this.closeTab();
        await sleep(1000 + Math.random() * 4000);
        this.closed = false;
        await this.reachServerAndRun(false);
      }
    } catch (err) {
      this.fail(`journey: ${(err as Error).message}`);
    }
  }

  private async reachServerAndRun(first: boolean): Promise<void> {
    const mark = (step: string) => { if (first) (this.result.phases ??= {})[step] = Date.now() - this.result.arrived; };
    let page = await this.go(this.plan.link);
    mark('link');
    if (/name="password"/.test(page.body)) {
      const form: Record<string, string> = { password: this.plan.password };
      if (this.plan.login === 'dummy') form.username = `storm-${this.plan.id}`;
      page = await this.go(page.url, { form });
      mark('login');
    }
    // waiting is fine, waiting forever is not
    const deadline = this.result.arrived + this.plan.deadlineMs;
    while (page.status === 200 && /^\/hub\/(queue|spawn-pending)\//.test(page.url)) {
      if (Date.now() > deadline) throw new Error(`still on ${page.url.split('?')[0]!.replace(/\/(queue|spawn-pending)\/.*/, '/$1/<user>')} after the deadline: ${page.body.replace(/<script[^]*?<\/script>/g, '').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').slice(0, 160)}`);
      if (page.url.startsWith('/hub/queue/')) {
        this.result.queued = true;
        // the place is the hub's from the request it answered with the queue page: when that request left, not when
        // the answer came back (seconds later on a saturated machine, which reordered visitors who did not reorder)
        this.result.enteredQueue ??= page.hops.find((h) => h.location?.includes('/hub/queue/'))?.sentAt ?? Date.now();
      }
      if (page.url.startsWith('/hub/queue/')) {
        await sleep(1000); // the queue page's own script reloads it every second
        page = await this.go(page.url);
      } else {
        // the pending page's script: its progress event stream until "ready", then the next URL (nodehub) or a reload
        // (JupyterHub, whose pending page then redirects to the server)
        const next = await this.followProgress(page, deadline);
        mark('ready');
        page = await this.go(next ?? page.url);
      }
      // the hub let this visitor out of the queue (to the pending page or the server): fairness is judged here
      if (this.result.queued && this.result.leftQueue === null && !page.url.startsWith('/hub/queue/')) this.result.leftQueue = Date.now();
    }
    for (const hop of page.hops) {
      if (hop.status < 400) continue;
      // whose server answered the error, so the report can quote that server's log
      const owner = /^\/user\/([^/?]+)\//.exec(hop.url)?.[1];
      if (owner) this.result.user ??= decodeURIComponent(owner);
      throw new Error(`${hop.status} at ${hop.url.replace(/storm-\d+|[0-9a-f-]{36}/g, '<user>').split('?')[0]}`);
    }
    const m = /^\/user\/([^/?]+)\//.exec(page.url);
    if (page.status !== 200 || !m) throw new Error(`ended on ${page.status} ${page.url.split('?')[0]}`);
    this.result.serverMs ??= Date.now() - this.result.arrived;
    mark('server');
    const user = decodeURIComponent(m[1]!);
    if (this.result.user && this.result.user !== user) throw new Error(`came back as ${user}, was ${this.result.user}`);
    this.result.user = user;
    const prefix = `/user/${m[1]}/`;
    // nbgitpuller's page pulls through its event stream (the page's script), then goes where the link points
    if (page.url.startsWith(`${prefix}git-pull`)) await this.pull(page.url, prefix);
    const xsrf = () => this.browser.cookiesFor(prefix)._xsrf;
    const json = () => ({ 'content-type': 'application/json', ...(xsrf() ? { 'x-xsrftoken': xsrf()! } : {}) });
    if (first) {
      const put = await this.request(`${prefix}api/contents/storm.ipynb`, {
        method: 'PUT', headers: json(),
        body: JSON.stringify({ type: 'notebook', format: 'json', content: NOTEBOOK }),
      });
      if (put.status >= 400) throw new Error(`notebook save ${put.status}`);
      await put.arrayBuffer();
      mark('saved');
    }
    const nb = await this.go(`${prefix}notebooks/storm.ipynb`);
    if (nb.status >= 400) throw new Error(`notebook page ${nb.status}`);
    this.result.kind = /mock notebook/.test(nb.body) ? 'mock' : 'real';
    mark('notebook');
    if (first || !this.wsUrl) {
      const res = await this.request(`${prefix}api/kernels`, { method: 'POST', body: JSON.stringify({ name: 'python3' }), headers: json() });
      if (res.status !== 201) throw new Error(`kernel start ${res.status}: ${(await res.text()).slice(0, 200)}`);
      const { id } = (await res.json()) as { id: string };
      this.wsUrl = `${this.plan.origin.replace(/^http/, 'ws')}${prefix}api/kernels/${id}/channels`;
      mark('kernel');
    }
    // JupyterLab retries a kernel websocket that cannot connect, as it reconnects one that drops
    await this.retrying(() => this.openSocket());
    mark('websocket');
    try {
      await this.runCell(first ? 120_000 : 30_000);
    } catch (err) {
      // a cell whose websocket the hub's outage cut gives no output; the visitor runs it again once reconnected
      if (!this.outageSeen()) throw err;
      for (let i = 0; i < 40 && (!this.ws || this.ws.readyState !== WebSocket.OPEN); i++) await sleep(250);
      await this.runCell(30_000);
    }
  }

  /** The hub was down at some point since this visitor arrived. */
  private outageSeen(): boolean {
    return (this.plan.outageFrom?.() ?? -1) >= this.result.arrived;
  }

  /** Reads the pending page's progress stream as its EventSource does; the URL to go to once the server is ready
   *  (null: reload the page). A stream that cannot be read falls back to a reload after 250 ms. */
  private async followProgress(page: { url: string; body: string }, deadline: number): Promise<string | null> {
    const unescape = (s: string) => s.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');
    const progress = /data-progress-url="([^"]+)"/.exec(page.body)?.[1] ?? /new EventSource\("([^"]+)"\)/.exec(page.body)?.[1];
    const nextAttr = /data-next-url="([^"]*)"/.exec(page.body)?.[1];
    if (!progress) {
      await sleep(250);
      return null;
    }
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), Math.max(0, deadline - Date.now()));
    try {
      const res = await this.request(unescape(progress), {
        headers: { accept: 'text/event-stream', referer: new URL(page.url, this.plan.origin).href }, signal: abort.signal,
      });
      if (res.status !== 200 || !res.body) {
        await res.arrayBuffer().catch(() => {});
        await sleep(250);
        return null;
      }
      let buffered = '';
      const decoder = new TextDecoder();
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        buffered += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffered.indexOf('\n\n')) >= 0) {
          const block = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('\n');
          if (!data) continue;
          const evt = JSON.parse(data) as { ready?: boolean; failed?: boolean };
          if (evt.ready || evt.failed) {
            abort.abort();
            return evt.ready && nextAttr ? unescape(nextAttr) : null;
          }
        }
      }
      return null;
    } catch {
      // the deadline, or the stream cut (a hub restart): the caller reloads and judges
      return null;
    } finally {
      clearTimeout(timer);
    }
  }

  private async pull(pageUrl: string, prefix: string): Promise<void> {
    const q = new URL(pageUrl, this.plan.origin).searchParams;
    const res = await this.request(`${prefix}git-pull/api?repo=${encodeURIComponent(q.get('repo') ?? '')}`);
    const text = await res.text();
    if (res.status !== 200 || !/"phase": ?"finished"/.test(text)) throw new Error(`nbgitpuller: ${res.status} ${text.slice(-200)}`);
  }

  private closeTab(): void {
    this.closed = true;
    this.ws?.terminate();
    this.ws = null;
  }

  private openSocket(): Promise<void> {
    const cookies = Object.entries(this.browser.cookiesFor(new URL(this.wsUrl).pathname)).map(([k, v]) => `${k}=${v}`).join('; ');
    const ws = new WebSocket(this.wsUrl, { headers: { cookie: cookies } });
    this.ws = ws;
    return new Promise((resolve, reject) => {
      ws.once('open', () => {
        ws.on('close', () => void this.dropped(ws));
        resolve();
      });
      ws.once('error', reject);
      ws.once('unexpected-response', (_q, res) => reject(new Error(`websocket refused: ${res.statusCode}`)));
    });
  }

  /** JupyterLab reconnects a dropped kernel websocket with backoff; a drop outside a hub outage is a failure. */
  private async dropped(ws: WebSocket): Promise<void> {
    if (this.closed || this.ws !== ws) return;
    if (Date.now() > this.plan.outageUntil()) this.fail('websocket dropped');
    this.result.reconnects++;
    for (let delay = 250; !this.closed; delay = Math.min(delay * 2, 5000)) {
      try {
        await this.openSocket();
        return;
      } catch {
        await sleep(delay);
      }
    }
  }

  /** Runs print(<id>) and checks the output. */
  async runCell(timeoutMs = 30_000): Promise<void> {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) throw new Error('no open kernel websocket');
    const msgId = randomUUID();
    const want = `${this.plan.id}\n`;
    const out = await new Promise<string>((resolve, reject) => {
      let text = '';
      const done = () => {
        clearTimeout(timer);
        ws.off('message', on);
        ws.off('close', cut);
      };
      const timer = setTimeout(() => { done(); reject(new Error('no cell output in time')); }, timeoutMs);
      // the connection went (a hub restart): no output will come on it; the notebook says so at once, not after a timeout
      const cut = () => { done(); reject(new Error('the kernel websocket closed while the cell ran')); };
      const on = (data: WebSocket.RawData) => {
        const msg = JSON.parse(String(data));
        if (msg.parent_header?.msg_id !== msgId || msg.channel !== 'iopub') return;
        if (msg.header.msg_type === 'stream') text += msg.content.text;
        if (msg.header.msg_type === 'status' && msg.content.execution_state === 'idle') {
          done();
          resolve(text);
        }
      };
      ws.on('message', on);
      ws.once('close', cut);
      ws.send(JSON.stringify({
        header: { msg_id: msgId, msg_type: 'execute_request', session: randomUUID(), username: 'storm', version: '5.3', date: new Date().toISOString() },
        parent_header: {}, metadata: {}, channel: 'shell', buffers: [],
        content: { code: `print(${this.plan.id})`, silent: false, store_history: false, user_expressions: {}, allow_stdin: false, stop_on_error: true },
      }));
    });
    if (out !== want) throw new Error(`cell printed ${JSON.stringify(out)}`);
    this.result.cells++;
  }

  /** A cell now and then during the soak; the websocket stays open in between. */
  async soakCell(): Promise<void> {
    if (this.result.firstOutputMs === null) return;
    for (let i = 0; i < 40 && (!this.ws || this.ws.readyState !== WebSocket.OPEN); i++) await sleep(250);
    try {
      await this.runCell();
    } catch (err) {
      this.fail(`soak cell: ${(err as Error).message}`);
    }
  }

  end(): void {
    this.closed = true;
    this.ws?.terminate();
  }
}
