// The event's shared password in front of a real hub: the password page, the pass cookie, HTTP Basic for scripts, what
// stays public, the per-address limit on wrong tries (real client addresses 127.0.0.x), the secret file, the refusal
// to run an open hub of temporary users, and logs that never carry the password.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request as httpRequest } from 'node:http';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestHub, type TestHub } from './support/hub.ts';

const PASSWORD = 'correct horse battery';
const NEAR_MISS = 'correct horse battery!';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** name → value of the cookies this answer sets. */
  cookies: Record<string, string>;
}

interface Ask {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  from?: string;
}

/** One HTTP exchange, from a chosen local address so the hub sees distinct clients. */
function ask(origin: string, path: string, o: Ask = {}): Promise<Answer> {
  const u = new URL(path, origin);
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: u.hostname, port: u.port, path: u.pathname + u.search, method: o.method ?? 'GET',
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

const form = (fields: Record<string, string>) => ({
  method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString(),
});
/** The password form as a browser posts it: opened first (for its _xsrf field and cookie), from `from`. */
async function passwordForm(origin: string, fields: Record<string, string>, from?: string): Promise<Ask> {
  const page = await ask(origin, '/hub/password', { from });
  const xsrf = /name="_xsrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
  const f = form({ ...fields, _xsrf: xsrf });
  return { ...f, headers: { ...f.headers, cookie: `_xsrf=${page.cookies._xsrf}` }, ...(from ? { from } : {}) };
}
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const cookieHeader = (jar: Record<string, string>) => Object.entries(jar).map(([k, v]) => `${k}=${v}`).join('; ');

let hub: TestHub;
let logged = '';
let restoreStderr: () => void;

beforeAll(async () => {
  // Everything the hub logs goes through process.stderr; keep it to search it for the password.
  const original = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    logged += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  }) as typeof process.stderr.write;
  restoreStderr = () => { process.stderr.write = original; };
  hub = await startTestHub({
    JupyterHub: { authenticator_class: 'tmp', log_level: 'debug' },
    SharedPassword: { event_name: 'Rust & Notebooks 2025', message: 'Ask at the front desk.' },
  }, { env: { NODEHUB_SHARED_PASSWORD: PASSWORD } });
});
afterAll(async () => {
  await hub?.close();
  restoreStderr?.();
});

describe('the shared password page', () => {
  it('sends a fresh visitor to the password page and keeps an nbgitpuller destination through it', async () => {
    const front = await ask(hub.origin, '/hub/');
    expect(front.status).toBe(302);
    expect(front.headers.location).toBe('/hub/password?next=%2Fhub%2F');

    const link = '/hub/user-redirect/git-pull?repo=https%3A%2F%2Fexample.org%2Fr.git&urlpath=tree%2Fr%2Fa.ipynb&branch=main';
    const gated = await ask(hub.origin, link);
    expect(gated.status).toBe(302);
    const pageUrl = String(gated.headers.location);
    expect(pageUrl).toBe(`/hub/password?next=${encodeURIComponent(link)}`);

    const page = await ask(hub.origin, pageUrl);
    expect(page.status).toBe(200);
    expect(page.body).toContain('Rust &amp; Notebooks 2025');
    expect(page.body).toContain('Ask at the front desk.');
    expect(page.body).toContain(`action="/hub/password?next=${encodeURIComponent(link).replace(/&/g, '&amp;')}"`);

    const wrong = await ask(hub.origin, pageUrl, await passwordForm(hub.origin, { password: NEAR_MISS }));
    expect(wrong.status).toBe(403);
    expect(wrong.body).toContain('not right');
    expect(wrong.cookies['nodehub-shared-password']).toBeUndefined();

    const right = await ask(hub.origin, pageUrl, await passwordForm(hub.origin, { password: PASSWORD }));
    expect(right.status).toBe(302);
    expect(right.headers.location).toBe(link);
    const setCookie = (right.headers['set-cookie'] as string[]).find((c) => c.startsWith('nodehub-shared-password='))!;
    expect(setCookie).toMatch(/; Path=\/(;|$)/);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Lax');
    expect(setCookie).not.toContain('Secure');

    // With the pass the link goes on to the hub (on to login for this new visitor), no longer to the password page.
    const through = await ask(hub.origin, link, { headers: { cookie: cookieHeader(right.cookies) } });
    expect(through.status).toBe(302);
    expect(String(through.headers.location)).not.toMatch(/^\/hub\/password/);
  });

  it('lets the tmp authenticator mint a user once the password was given', async () => {
    const right = await ask(hub.origin, '/hub/password', await passwordForm(hub.origin, { password: PASSWORD }));
    expect(right.headers.location).toBe('/hub/');
    const jar = { ...right.cookies };
    const before = (await (await hub.api('/users')).json()) as { name: string }[];
    let url = '/hub/';
    for (let hop = 0; hop < 6 && !jar['jupyterhub-hub-login']; hop++) {
      const r = await ask(hub.origin, url, { headers: { cookie: cookieHeader(jar) } });
      Object.assign(jar, r.cookies);
      expect(r.status, `hop ${hop} to ${url}`).toBe(302);
      url = String(r.headers.location);
      expect(url).not.toMatch(/^\/hub\/password/);
    }
    expect(jar['jupyterhub-hub-login']).toBeTruthy();
    const after = (await (await hub.api('/users')).json()) as { name: string }[];
    const minted = after.filter((u) => !before.some((b) => b.name === u.name));
    expect(minted).toHaveLength(1);
    expect(minted[0].name).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('takes HTTP Basic with any user name and the password, and refuses a wrong one with a Basic challenge', async () => {
    const auth = basic('workshop-script', PASSWORD);
    const login = await ask(hub.origin, '/hub/tmplogin', { headers: { authorization: auth } });
    expect(login.status).toBe(302);
    expect(login.cookies['jupyterhub-hub-login']).toBeTruthy();
    const page = await ask(hub.origin, '/hub/token', {
      headers: { authorization: auth, cookie: `jupyterhub-hub-login=${login.cookies['jupyterhub-hub-login']}` },
    });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<form');

    const wrong = await ask(hub.origin, '/hub/token', { headers: { authorization: basic('x', NEAR_MISS) }, from: '127.0.0.5' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers['www-authenticate']).toBe('Basic realm="nodehub"');
  });

  it('keeps health checks, the version probe, the stylesheet and the OAuth token endpoint public', async () => {
    for (const path of ['/hub/health', '/hub/api/health', '/hub/static/style.css']) {
      expect((await ask(hub.origin, path)).status, path).toBe(200);
    }
    const version = await ask(hub.origin, '/hub/api');
    expect(version.status).toBe(200);
    expect(JSON.parse(version.body)).toEqual({ version: '5.4.6' });
    // Reached by single-user servers server-to-server: the endpoint's own answer, not the gate's.
    const token = await ask(hub.origin, '/hub/api/oauth2/token', form({ client_id: 'nobody', client_secret: 'x', grant_type: 'authorization_code' }));
    expect(JSON.parse(token.body)).toEqual({ error: 'invalid_client' });
  });

  it('needs no password for API tokens and answers credential-less API calls with 401 JSON', async () => {
    const users = await hub.api('/users');
    expect(users.status).toBe(200);
    // A token the hub does not know is refused at the gate.
    expect((await hub.api('/users', { token: 'not-a-token' })).status).toBe(401);

    const bare = await ask(hub.origin, '/hub/api/users');
    expect(bare.status).toBe(401);
    expect(JSON.parse(bare.body)).toEqual({ status: 401, message: 'The event password is required' });
    expect(bare.headers['www-authenticate']).toBeUndefined();
    const json = await ask(hub.origin, '/hub/api/users', { headers: { accept: 'application/json' } });
    expect(json.status).toBe(401);
    expect(json.headers['www-authenticate']).toBe('Basic realm="nodehub"');
    // A browser form post without the pass is refused, not redirected, and gets no Basic prompt.
    const post = await ask(hub.origin, '/hub/spawn', form({}));
    expect(post.status).toBe(403);
    expect(post.headers['www-authenticate']).toBeUndefined();
  });
});

describe('wrong tries per client address', () => {
  it('answers the 11th wrong try within a minute with 429 and Retry-After; another address is unaffected', async () => {
    for (let i = 1; i <= 10; i++) {
      const r = await ask(hub.origin, '/hub/password', await passwordForm(hub.origin, { password: `guess-${i}` }, '127.0.0.2'));
      expect(r.status, `try ${i}`).toBe(403);
    }
    const limited = await ask(hub.origin, '/hub/password', await passwordForm(hub.origin, { password: 'guess-11' }, '127.0.0.2'));
    expect(limited.status).toBe(429);
    const wait = Number(limited.headers['retry-after']);
    expect(wait).toBeGreaterThanOrEqual(50);
    expect(wait).toBeLessThanOrEqual(60);
    expect(limited.body).toContain('Too many tries');
    // While limited even the right password waits, by form and by Basic.
    expect((await ask(hub.origin, '/hub/password', await passwordForm(hub.origin, { password: PASSWORD }, '127.0.0.2'))).status).toBe(429);
    const viaBasic = await ask(hub.origin, '/hub/token', { headers: { authorization: basic('a', PASSWORD) }, from: '127.0.0.2' });
    expect(viaBasic.status).toBe(429);
    expect(Number(viaBasic.headers['retry-after'])).toBeGreaterThan(0);

    const other = await ask(hub.origin, '/hub/password', await passwordForm(hub.origin, { password: PASSWORD }, '127.0.0.3'));
    expect(other.status).toBe(302);
    expect(other.cookies['nodehub-shared-password']).toBeTruthy();
  });

  it('counts wrong HTTP Basic passwords toward the same limit', async () => {
    for (let i = 1; i <= 10; i++) {
      const r = await ask(hub.origin, '/hub/api/users', { headers: { authorization: basic('bot', `guess-${i}`) }, from: '127.0.0.4' });
      expect(r.status, `try ${i}`).toBe(401);
    }
    const page = await ask(hub.origin, '/hub/password', await passwordForm(hub.origin, { password: PASSWORD }, '127.0.0.4'));
    expect(page.status).toBe(429);
  });

  it('never writes the password, right or wrong, to the log, but logs the address of wrong tries', () => {
    expect(logged).toContain('Wrong shared password from 127.0.0.2');
    expect(logged).toContain('Wrong shared password (HTTP Basic) from 127.0.0.4');
    expect(logged).not.toContain(PASSWORD);
    expect(logged).not.toContain('guess-');
  });
});

describe('where the password comes from, and the open-hub rule', () => {
  const dirs: string[] = [];
  const scratch = () => {
    const d = mkdtempSync(join(tmpdir(), 'nodehub-pw-'));
    dirs.push(d);
    return d;
  };
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('reads the password from NODEHUB_SHARED_PASSWORD_FILE, dropping one trailing newline', async () => {
    const dir = scratch();
    const file = join(dir, 'secret');
    writeFileSync(file, 'from-a-file\n');
    const h = await startTestHub({}, { dir, env: { NODEHUB_SHARED_PASSWORD_FILE: file } });
    try {
      expect((await ask(h.origin, '/hub/password', await passwordForm(h.origin, { password: 'from-a-file\n' }))).status).toBe(403);
      expect((await ask(h.origin, '/hub/password', await passwordForm(h.origin, { password: 'from-a-file' }))).status).toBe(302);
    } finally {
      await h.close();
    }
  });

  it('refuses to start with an empty or unreadable password file, naming the variable', async () => {
    const dir = scratch();
    const empty = join(dir, 'empty');
    writeFileSync(empty, '\n');
    await expect(startTestHub({}, { dir, env: { NODEHUB_SHARED_PASSWORD_FILE: empty } }))
      .rejects.toThrow(/NODEHUB_SHARED_PASSWORD_FILE.*empty/);
    await expect(startTestHub({}, { dir, env: { NODEHUB_SHARED_PASSWORD_FILE: join(dir, 'missing') } }))
      .rejects.toThrow(/NODEHUB_SHARED_PASSWORD_FILE: cannot read .*ENOENT/);
    if (process.getuid?.() !== 0) {
      const locked = join(dir, 'locked');
      writeFileSync(locked, 'x');
      chmodSync(locked, 0o000);
      await expect(startTestHub({}, { dir, env: { NODEHUB_SHARED_PASSWORD_FILE: locked } })).rejects.toThrow(/EACCES/);
    }
  });

  it('forgets pass cookies when the password changes', async () => {
    const dir = scratch();
    const first = await startTestHub({}, { dir, env: { NODEHUB_SHARED_PASSWORD: 'first' } });
    const pass = (await ask(first.origin, '/hub/password', await passwordForm(first.origin, { password: 'first' }))).cookies;
    expect((await ask(first.origin, '/hub/login', { headers: { cookie: cookieHeader(pass) } })).status).toBe(200);
    await first.close();
    const second = await startTestHub({}, { dir, adminToken: first.adminToken, env: { NODEHUB_SHARED_PASSWORD: 'second' } });
    try {
      const stale = await ask(second.origin, '/hub/login', { headers: { cookie: cookieHeader(pass) } });
      expect(stale.status).toBe(302);
      expect(stale.headers.location).toBe('/hub/password?next=%2Fhub%2Flogin');
    } finally {
      await second.close();
    }
  });

  it('refuses an open hub of temporary users beyond loopback unless allowed', async () => {
    const dir = scratch();
    const open = { JupyterHub: { ip: '0.0.0.0', authenticator_class: 'tmp' } };
    await expect(startTestHub(open, { dir })).rejects.toThrow(/open hub with temporary users lets anyone.*NODEHUB_SHARED_PASSWORD/);

    const allowed = await startTestHub({ ...open, SharedPassword: { allow_open_hub: true } }, { dir });
    try {
      expect((await ask(allowed.origin, '/hub/health')).status).toBe(200);
      // No password configured: no gate and no password page.
      expect((await ask(allowed.origin, '/hub/password')).status).toBe(404);
      expect(String((await ask(allowed.origin, '/hub/')).headers.location)).toMatch(/^\/hub\/login/);
    } finally {
      await allowed.close();
    }
    const gated = await startTestHub(open, { dir, env: { NODEHUB_SHARED_PASSWORD: 'pw' } });
    try {
      expect((await ask(gated.origin, '/hub/')).headers.location).toBe('/hub/password?next=%2Fhub%2F');
    } finally {
      await gated.close();
    }
  });
});
