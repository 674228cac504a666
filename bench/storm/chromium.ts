// The Chromium sample of a storm: visitors in real headless Chromium (one browser, a context each, so each has its
// own cookies), doing what the scripted visitors do through the pages' own scripts: the event link, the password
// (or JupyterHub's login) form, the queue and pending pages moving on by themselves, nbgitpuller's page pulling, the
// notebook saved and opened; a cell typed and run in the classic notebook UI on a real server, or over a kernel
// websocket opened by the page itself on a mock one (its notebook page has no UI). The page's websocket stays open
// through the soak; a close outside a hub outage is a failure.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../../test/support/chromium.ts';
import { NOTEBOOK, type VisitorPlan, type VisitorResult } from './visitor.ts';

const SETPRIV = '/usr/bin/setpriv';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One headless browser, at no higher priority than the hub it measures. Chromium raises its compositor, IO and
 * presentation threads to nice -8 where it may (as root, with CAP_SYS_NICE): on this 2-core machine its 20 pages then
 * took half a core through the whole storm and outranked every server start and the hub itself. So it runs without
 * that capability (setpriv drops it from the inheritable and bounding sets; the threads stay at 0), and `nice` > 0
 * lowers it further. The sample's own pages load a little later, which its figures show.
 */
export function launchChromium(dir: string, nice = 0): Promise<Browser> {
  let executablePath = CHROMIUM;
  const fair = process.getuid?.() === 0 && existsSync(SETPRIV);
  if (fair || nice > 0) {
    executablePath = join(dir, 'chromium-fair');
    const prefix = [fair ? `${SETPRIV} --inh-caps=-sys_nice --bounding-set=-sys_nice` : '', nice > 0 ? `nice -n ${Math.round(nice)}` : ''].filter(Boolean).join(' ');
    writeFileSync(executablePath, `#!/bin/sh\nexec ${prefix} ${CHROMIUM} "$@"\n`, { mode: 0o755 });
  }
  return chromium.launch({ executablePath, args: [...CHROMIUM_ARGS, '--disable-dev-shm-usage'] });
}

// In the page of a mock server: a kernel websocket that reconnects with backoff as JupyterLab's does.
const MOCK_KERNEL = `(async (prefix) => {
  const xsrf = (document.cookie.match(/_xsrf=([^;]+)/) || [])[1];
  const res = await fetch(prefix + 'api/kernels', { method: 'POST', headers: xsrf ? { 'X-XSRFToken': xsrf } : {}, body: '{"name":"python3"}' });
  if (res.status !== 201) throw new Error('kernel start ' + res.status);
  const { id } = await res.json();
  const url = location.origin.replace(/^http/, 'ws') + prefix + 'api/kernels/' + id + '/channels';
  const s = { ws: null, drops: [], run: null };
  const open = () => new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.onopen = () => { s.ws = ws; resolve(); };
    ws.onerror = () => reject(new Error('websocket error'));
    ws.onclose = () => { if (s.ws !== ws) return; s.drops.push(Date.now()); s.ws = null; (async () => { for (let d = 250; ; d = Math.min(d * 2, 5000)) { try { await open(); return; } catch { await new Promise((r) => setTimeout(r, d)); } } })(); };
  });
  await open();
  s.run = async (code) => {
    for (let i = 0; i < 120 && !s.ws; i++) await new Promise((r) => setTimeout(r, 250));
    const msgId = crypto.randomUUID();
    return new Promise((resolve, reject) => {
      let text = '';
      const timer = setTimeout(() => reject(new Error('no cell output in time')), 30000);
      const on = (ev) => {
        const m = JSON.parse(ev.data);
        if (!m.parent_header || m.parent_header.msg_id !== msgId || m.channel !== 'iopub') return;
        if (m.header.msg_type === 'stream') text += m.content.text;
        if (m.header.msg_type === 'status' && m.content.execution_state === 'idle') { clearTimeout(timer); s.ws.removeEventListener('message', on); resolve(text); }
      };
      s.ws.addEventListener('message', on);
      s.ws.send(JSON.stringify({ header: { msg_id: msgId, msg_type: 'execute_request', session: crypto.randomUUID(), username: 'storm', version: '5.3', date: new Date().toISOString() },
        parent_header: {}, metadata: {}, channel: 'shell', buffers: [], content: { code, silent: false, store_history: false, user_expressions: {}, allow_stdin: false, stop_on_error: true } }));
    });
  };
  window.__storm = s;
})`;

export class ChromiumVisitor {
  readonly result: VisitorResult;
  private ctx: BrowserContext | null = null;
  private page: Page | null = null;
  private navigating = false;
  private ended = false;
  private firstRequest = 0;

  private readonly browser: Browser;
  private readonly plan: VisitorPlan;

  constructor(browser: Browser, plan: VisitorPlan) {
    this.browser = browser;
    this.plan = plan;
    this.result = { id: plan.id, arrived: 0, firstOutputMs: null, leftQueue: null, enteredQueue: null, queued: false, user: null, errors: [], errorTimes: [], reconnects: 0, cells: 0, kind: null, serverMs: null };
  }

  private fail(what: string): void {
    this.result.errors.push(`chromium: ${what}`);
    this.result.errorTimes.push(Date.now());
  }

  async arrive(): Promise<void> {
    this.result.arrived = Date.now();
    try {
      this.ctx = await this.browser.newContext();
      // a slow hub is waited for, up to the journey's deadline, like the scripted visitors
      this.ctx.setDefaultTimeout(this.plan.deadlineMs);
      for (let attempt = 1; ; attempt++) {
        try {
          await this.journey(true);
          break;
        } catch (err) {
          // the hub went down under this page (a hard kill cuts the connections its one process holds, and a browser
          // shows an error page for a cut form post): a person opens the event link again, as the scripted visitors
          // retry; outside an outage it is a failure
          if (Date.now() > this.plan.outageUntil() || attempt >= 5) throw err;
          await this.page?.close().catch(() => {});
          await sleep(500);
        }
      }
      // from the first request, as for the scripted visitors: opening the context and tab (~0.5 s of this process and
      // Chromium on the loaded machine) is the visitor's own browser, before anything reaches the hub
      this.result.firstOutputMs = performance.now() - this.firstRequest;
      if (this.plan.returns) {
        await this.page!.close();
        await sleep(1000 + Math.random() * 4000);
        await this.journey(false);
      }
    } catch (err) {
      this.fail(`journey: ${(err as Error).message.split('\n')[0]}`);
    }
  }

  private async goto(page: Page, url: string): Promise<void> {
    this.navigating = true;
    try {
      for (;;) {
        try {
          const res = await page.goto(url, { waitUntil: 'domcontentloaded' });
          if (res && res.status() >= 400) throw new Error(`${res.status()} at ${new URL(res.url()).pathname}`);
          return;
        } catch (err) {
          if (Date.now() > this.plan.outageUntil() || !/ERR_CONNECTION_REFUSED|ERR_EMPTY_RESPONSE|ERR_CONNECTION_RESET/.test(String(err))) throw err;
          await sleep(500);
        }
      }
    } finally {
      this.navigating = false;
    }
  }

  private async journey(first: boolean): Promise<void> {
    const page = await this.ctx!.newPage();
    this.page = page;
    page.on('response', (res) => {
      if (res.request().isNavigationRequest() && res.status() >= 400 && !this.ended) this.fail(`${res.status()} at ${new URL(res.url()).pathname.replace(/\/user\/[^/]+|\/hub\/(spawn-pending|queue)\/[^/?]+/g, '/…/<user>')}`);
    });
    page.on('framenavigated', (f) => {
      if (f !== page.mainFrame()) return;
      if (f.url().includes('/hub/queue/')) { this.result.queued = true; this.result.enteredQueue ??= Date.now(); }
      else if (this.result.queued && this.result.leftQueue === null) this.result.leftQueue = Date.now();
    });
    page.on('websocket', (ws) => ws.on('close', () => {
      if (this.ended || this.navigating || page.isClosed()) return;
      this.result.reconnects++;
      if (Date.now() > this.plan.outageUntil()) this.fail('websocket dropped');
    }));
    if (first && !this.firstRequest) this.firstRequest = performance.now();
    await this.goto(page, this.plan.origin + this.plan.link);
    if (await page.locator('input[name=password]').count()) {
      if (this.plan.login === 'dummy') await page.fill('input[name=username]', `storm-${this.plan.id}`);
      await page.fill('input[name=password]', this.plan.password);
      this.navigating = true;
      await page.press('input[name=password]', 'Enter', { noWaitAfter: true });
    }
    // the queue and pending pages move on by themselves; waiting is fine until the deadline
    const left = this.result.arrived + this.plan.deadlineMs - Date.now();
    await page.waitForURL(/\/user\/[^/]+\/(tree|notebooks)/, { timeout: Math.max(1000, left) }).catch(() => {
      throw new Error(`still on ${new URL(page.url()).pathname.replace(/\/(queue|spawn-pending)\/.*/, '/$1/<user>')} after the deadline`);
    });
    this.navigating = false;
    this.result.serverMs ??= Date.now() - this.result.arrived;
    const user = decodeURIComponent(/\/user\/([^/]+)\//.exec(page.url())![1]!);
    if (this.result.user && this.result.user !== user) throw new Error(`came back as ${user}, was ${this.result.user}`);
    this.result.user = user;
    const prefix = `/user/${encodeURIComponent(user)}/`;
    if (first) {
      const status = await page.evaluate(async ([p, nb]) => {
        const xsrf = (document.cookie.match(/_xsrf=([^;]+)/) || [])[1];
        const r = await fetch(`${p}api/contents/storm.ipynb`, { method: 'PUT', headers: { 'Content-Type': 'application/json', ...(xsrf ? { 'X-XSRFToken': xsrf } : {}) }, body: JSON.stringify({ type: 'notebook', format: 'json', content: nb }) });
        return r.status;
      }, [prefix, NOTEBOOK] as const);
      if (status >= 400) throw new Error(`notebook save ${status}`);
    }
    await this.goto(page, `${this.plan.origin}${prefix}notebooks/storm.ipynb`);
    this.result.kind = (await page.title()).includes('mock') ? 'mock' : 'real';
    if (this.result.kind === 'real') {
      await page.locator('#kernel_indicator_icon.kernel_idle_icon').waitFor({ timeout: 120_000 });
      await page.locator('.cell .CodeMirror').first().click();
      await page.keyboard.type(`print(${this.plan.id})`);
      await page.keyboard.press('Shift+Enter');
      const out = page.locator('.output_area .output_text').first();
      await out.waitFor({ timeout: 60_000 });
      const text = (await out.innerText()).trim();
      if (text !== String(this.plan.id)) throw new Error(`cell printed ${JSON.stringify(text)}`);
      this.result.cells++;
    } else {
      await page.evaluate(`${MOCK_KERNEL}(${JSON.stringify(prefix)})`);
      await this.runCell();
    }
  }

  /** A cell through the page: the notebook's own kernel connection on a real server, the page's websocket on a mock. */
  private async runCell(): Promise<void> {
    const code = `print(${this.plan.id})`;
    const out = this.result.kind === 'real'
      ? await this.page!.evaluate((c) => new Promise<string>((resolve, reject) => {
        let text = '';
        const timer = setTimeout(() => reject(new Error('no cell output in time')), 30_000);
        // the classic notebook's kernel object: it reconnects its websocket by itself
        (window as any).Jupyter.notebook.kernel.execute(c, { iopub: { output: (m: any) => { text += m.content.text ?? ''; } }, shell: { reply: () => { clearTimeout(timer); setTimeout(() => resolve(text), 50); } } });
      }), code)
      : await this.page!.evaluate((c) => (window as any).__storm.run(c), code);
    if (out.trim() !== String(this.plan.id)) throw new Error(`cell printed ${JSON.stringify(out)}`);
    this.result.cells++;
  }

  async soakCell(): Promise<void> {
    if (this.result.firstOutputMs === null || !this.page) return;
    try {
      await this.runCell();
    } catch (err) {
      this.fail(`soak cell: ${(err as Error).message.split('\n')[0]}`);
    }
  }

  async end(): Promise<void> {
    this.ended = true;
    await this.ctx?.close().catch(() => {});
  }
}
