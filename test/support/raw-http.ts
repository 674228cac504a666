// One raw HTTP exchange (node:http, no redirects followed, no header normalising) for the security tests, which need
// to send exactly the headers an attacker would, from a chosen local address.
import { request as httpRequest } from 'node:http';

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** name → value of the cookies this answer sets. */
  cookies: Record<string, string>;
}

export interface Ask {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  from?: string;
}

export function ask(origin: string, path: string, o: Ask = {}): Promise<Answer> {
  const u = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: u.hostname, port: u.port, path, method: o.method ?? 'GET',
      headers: o.headers, localAddress: o.from ?? '127.0.0.1', agent: false,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const cookies: Record<string, string> = {};
        for (const line of res.headers['set-cookie'] ?? []) {
          const [pair] = line.split(';');
          const eq = pair.indexOf('=');
          cookies[pair.slice(0, eq)] = pair.slice(eq + 1);
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), cookies });
      });
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

export const formPost = (fields: Record<string, string>, headers: Record<string, string> = {}): Ask => ({
  method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields).toString(),
});
export const basicAuth = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/**
 * What a browser holds after opening a hub page with a form: the page's `_xsrf` field and the cookies set with it,
 * merged over `cookie`. For tests that submit the hub's forms by hand.
 */
export async function formSession(origin: string, page: string, cookie = '', from?: string): Promise<{ xsrf: string; cookie: string }> {
  const r = await ask(origin, page, { headers: cookie ? { cookie } : {}, from });
  const m = /name="_xsrf" value="([^"]+)"/.exec(r.body);
  if (!m) throw new Error(`no _xsrf field on ${page} (status ${r.status})`);
  const jar = new Map(cookie.split(';').map((c) => c.trim()).filter(Boolean).map((c) => [c.slice(0, c.indexOf('=')), c.slice(c.indexOf('=') + 1)]));
  for (const [k, v] of Object.entries(r.cookies)) jar.set(k, v);
  return { xsrf: m[1], cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') };
}
