// Route-table load through configurable-http-proxy's REST API (spec 6.1), the same calls for every proxy: add many
// routes one request at a time on one keep-alive connection (JupyterHub adds routes one by one too), then list them.
import http from 'node:http';
import type { RoutesCommand } from './load.ts';

interface Reply {
  status: number;
  body: string;
}

function call(agent: http.Agent, api: URL, token: string, method: string, path: string, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = { authorization: `token ${token}` };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(body);
    }
    const req = http.request({ agent, hostname: api.hostname, port: api.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path}: no answer within 30 s`)));
    req.end(body);
  });
}

export interface RoutesResult {
  /** Milliseconds per POST, in order. */
  addLatencies: Float64Array;
  addTotalMs: number;
  /** Milliseconds per full GET /api/routes. */
  listLatencies: Float64Array;
  listedRoutes: number;
  listBytes: number;
}

export async function routesTrial(cmd: RoutesCommand): Promise<RoutesResult> {
  const api = new URL(cmd.apiUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const body = JSON.stringify({ target: cmd.target });
    const add = new Float64Array(cmd.count);
    const t0 = performance.now();
    for (let i = 0; i < cmd.count; i++) {
      const s = performance.now();
      const reply = await call(agent, api, cmd.token, 'POST', `/api/routes${cmd.prefix}${String(i).padStart(5, '0')}`, body);
      add[i] = performance.now() - s;
      if (reply.status !== 201) throw new Error(`POST route ${i}: HTTP ${reply.status} ${reply.body.slice(0, 200)}`);
    }
    const addTotalMs = performance.now() - t0;
    const list = new Float64Array(cmd.listTimes);
    let listed = 0;
    let listBytes = 0;
    for (let i = 0; i < cmd.listTimes; i++) {
      const s = performance.now();
      const reply = await call(agent, api, cmd.token, 'GET', '/api/routes');
      list[i] = performance.now() - s;
      if (reply.status !== 200) throw new Error(`GET /api/routes: HTTP ${reply.status} ${reply.body.slice(0, 200)}`);
      if (i === 0) {
        listed = Object.keys(JSON.parse(reply.body) as object).length;
        listBytes = Buffer.byteLength(reply.body);
      }
    }
    return { addLatencies: add, addTotalMs, listLatencies: list, listedRoutes: listed, listBytes };
  } finally {
    agent.destroy();
  }
}
