// The limit on wrong shared passwords behind a proxy (issue #9): it used to count per socket address, so behind an
// ingress every visitor shared one bucket and ten wrong tries locked the whole event out. Now the client is read from
// X-Forwarded-For as far as JupyterHub.trusted_downstream_ips vouch for it, IPv6 clients count per /64, and the limit
// and window are settings. A locked client is refused even with the right password.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from './support/hub.ts';
import { ask, basicAuth } from './support/raw-http.ts';
import { limiterKey } from '../src/hub/client-address.ts';

const PASSWORD = 'right one';
const PROXY = '127.0.0.2';
let hub: TestHub;

beforeAll(async () => {
  hub = await startTestHub({
    JupyterHub: { authenticator_class: 'tmp', trusted_downstream_ips: ['127.0.0.2', '10.0.0.0/8'] },
  }, { env: { NODEHUB_SHARED_PASSWORD: PASSWORD } });
});
afterAll(async () => { await hub?.close(); });

/** One Basic try at a gated page; 401 wrong, 429 limited, anything else let through. */
async function attempt(password: string, from: string, xff?: string, h: TestHub = hub): Promise<number> {
  const headers: Record<string, string> = { authorization: basicAuth('x', password) };
  if (xff !== undefined) headers['x-forwarded-for'] = xff;
  return (await ask(h.origin, '/hub/home', { headers, from })).status;
}
const passes = (status: number) => status !== 401 && status !== 429;

describe('wrong-try limit behind a trusted proxy', () => {
  it('ten wrong tries from one forwarded client do not lock another client behind the same proxy', async () => {
    for (let i = 0; i < 10; i++) expect(await attempt('wrong', PROXY, '203.0.113.7')).toBe(401);
    // The locked client is refused even with the right password.
    expect(await attempt(PASSWORD, PROXY, '203.0.113.7')).toBe(429);
    expect(passes(await attempt(PASSWORD, PROXY, '203.0.113.8'))).toBe(true);
    expect(await attempt('wrong', PROXY, '203.0.113.8')).toBe(401);
  });

  it('walks X-Forwarded-For from the right: what the client wrote to the left of the proxy is not believed', async () => {
    for (let i = 0; i < 10; i++) expect(await attempt('wrong', PROXY, `198.51.100.${i}, 203.0.113.20`)).toBe(401);
    expect(await attempt(PASSWORD, PROXY, '198.51.100.99, 203.0.113.20')).toBe(429);
    // Through a chain of trusted proxies (10.x), the first untrusted hop from the right is the client.
    expect(await attempt(PASSWORD, PROXY, '203.0.113.20, 10.1.2.3')).toBe(429);
    expect(passes(await attempt(PASSWORD, PROXY, '203.0.113.21, 10.1.2.3'))).toBe(true);
  });

  it('ignores X-Forwarded-For from an untrusted socket', async () => {
    for (let i = 0; i < 10; i++) expect(await attempt('wrong', '127.0.0.3', `192.0.2.${i}`)).toBe(401);
    expect(await attempt(PASSWORD, '127.0.0.3', '192.0.2.200')).toBe(429);
    expect(await attempt(PASSWORD, '127.0.0.3')).toBe(429);
  });

  it('counts two IPv6 addresses in one /64 as one client, and another /64 apart', async () => {
    for (let i = 0; i < 10; i++) expect(await attempt('wrong', PROXY, `2001:db8:aa:bb::${i + 1}`)).toBe(401);
    expect(await attempt(PASSWORD, PROXY, '2001:db8:aa:bb:ffff:1:2:3')).toBe(429);
    expect(passes(await attempt(PASSWORD, PROXY, '2001:db8:aa:bc::1'))).toBe(true);
    expect(limiterKey('2001:db8:aa:bb::1')).toBe(limiterKey('2001:0db8:00aa:00bb:ffff:ffff:ffff:ffff'));
    expect(limiterKey('::ffff:1.2.3.4')).not.toBe(limiterKey('::ffff:1.2.3.5'));
    expect(limiterKey('1.2.3.4')).toBe('1.2.3.4');
  });
});

describe('the limit and window are settings', () => {
  it('SharedPassword.max_wrong_tries sets the number of wrong tries', async () => {
    const small = await startTestHub({
      JupyterHub: { authenticator_class: 'tmp' }, SharedPassword: { max_wrong_tries: 2, wrong_try_window: 600 },
    }, { env: { NODEHUB_SHARED_PASSWORD: PASSWORD } });
    try {
      expect(await attempt('wrong', '127.0.0.4', undefined, small)).toBe(401);
      expect(await attempt('wrong', '127.0.0.4', undefined, small)).toBe(401);
      const locked = await ask(small.origin, '/hub/home', { headers: { authorization: basicAuth('x', PASSWORD) }, from: '127.0.0.4' });
      expect(locked.status).toBe(429);
      expect(Number(locked.headers['retry-after'])).toBeGreaterThan(60);
    } finally {
      await small.close();
    }
  });

  it('refuses bad values at start-up, naming the key', async () => {
    await expect(startTestHub({ JupyterHub: { trusted_downstream_ips: ['10.0.0.0/33'] } })).rejects.toThrow('JupyterHub.trusted_downstream_ips');
    await expect(startTestHub({ JupyterHub: { trusted_downstream_ips: ['proxy.local'] } })).rejects.toThrow('JupyterHub.trusted_downstream_ips');
    await expect(startTestHub({ SharedPassword: { max_wrong_tries: 0 } })).rejects.toThrow('SharedPassword.max_wrong_tries');
    await expect(startTestHub({ SharedPassword: { wrong_try_window: -1 } })).rejects.toThrow('SharedPassword.wrong_try_window');
  });
});
