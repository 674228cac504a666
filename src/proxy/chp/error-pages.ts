// Error pages for the standalone proxy, as configurable-http-proxy renders them: --error-target asks another server
// (JupyterHub's /hub/error/<code>) for the page, --error-path reads <code>.html or error.html from a directory. Either
// way the client gets the ORIGINAL status; if the page cannot be had, the forwarder falls back to plain status text
// (a rejected promise here means exactly that).
import { readFile } from 'node:fs/promises';
import { http, https } from '../../util/builtins.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { Logger } from '../../util/log.ts';

export type ErrorPage = (status: number, req: IncomingMessage, res: ServerResponse) => Promise<void>;

export interface ErrorTarget {
  render: ErrorPage;
  /** Drops the pooled connections to the error server. */
  close(): void;
}

/** Headers of the error server's answer that describe the body, so a compressed page stays readable. */
const RELAYED = ['content-type', 'content-encoding'] as const;

export function errorTargetPages(errorTarget: string, log: Logger, timeoutMs = 10_000): ErrorTarget {
  const base = new URL(errorTarget.endsWith('/') ? errorTarget : errorTarget + '/');
  const secure = base.protocol === 'https:';
  const agent = secure ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
  const render: ErrorPage = (status, req, res) =>
    new Promise<void>((resolve, reject) => {
      const url = new URL(base);
      url.pathname += String(status);
      url.searchParams.set('url', req.url ?? '/');
      const fetchPage = (secure ? https : http).get(url, { agent, timeout: timeoutMs }, (page) => {
        page.on('error', reject);
        // The client left while we fetched: nothing to send, but the page must be drained to free the connection.
        if (res.writableEnded || res.destroyed) {
          page.resume();
          return resolve();
        }
        for (const name of RELAYED) {
          const value = page.headers[name];
          if (value !== undefined) res.setHeader(name, value);
        }
        res.writeHead(status);
        res.on('close', () => page.destroy());
        page.pipe(res);
        page.on('end', () => resolve());
        page.on('close', () => {
          if (!page.complete) reject(new Error('error page cut off'));
        });
      });
      fetchPage.on('timeout', () => fetchPage.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      fetchPage.on('error', (err) => {
        log.error(`Failed to get custom error page from ${url.origin}${url.pathname}: ${err.message}`);
        reject(err);
      });
    });
  return { render, close: () => agent.destroy() };
}

export function errorPathPages(dir: string, log: Logger): ErrorPage {
  return async (status, _req, res) => {
    let page: Buffer;
    try {
      page = await readFile(join(dir, `${status}.html`));
    } catch {
      try {
        page = await readFile(join(dir, 'error.html'));
      } catch (err) {
        log.error(`No error page for ${status} in ${dir}: ${(err as Error).message}`);
        throw err;
      }
    }
    if (res.writableEnded || res.destroyed) return;
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': page.length });
    res.end(page);
  };
}
