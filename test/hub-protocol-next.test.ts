// The `next` table of spec 3.3, checked through GET /hub/login?next=… for a logged-in user whose server runs: every
// off-site or malformed target falls back to the server URL, on-site ones come back as paths.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from './support/hub.ts';
import { get, login } from './hub-protocol-support.ts';

let hub: TestHub;
let cookie: string;

beforeAll(async () => {
  hub = await startTestHub();
  cookie = await login(hub, 'carol');
  expect((await hub.api('/users/carol/server', { method: 'POST' })).status).toBe(201);
});
afterAll(async () => hub?.close());

async function nextFor(next: string): Promise<string | null> {
  const r = await get(hub, `/hub/login?next=${encodeURIComponent(next)}`, { headers: { cookie } });
  expect(r.status, next).toBe(302);
  return r.headers.get('location');
}

describe('next validation (spec 3.3)', () => {
  const host = () => new URL(hub.origin).host;

  it.each([
    ['https://evil.com/x', '/user/carol/'],
    ['//evil.com/x', '/user/carol/'],
    ['///evil.com', '/user/carol/'],
    ['relative/path', '/user/carol/'],
    ['javascript:alert(1)', '/user/carol/'],
    ['\\\\evil.com', '/user/carol/'],
    ['/\\evil.com', '/%5Cevil.com'],
    ['/user/carol/lab?a=b', '/hub/user/carol/lab?a=b'],
    ['/hub/home', '/hub/home'],
    // Browsers drop tabs and newlines inside URLs, so these would become //evil.com: dropped, as is header splitting.
    ['/\t/evil.com', '/user/carol/'],
    ['/hub/\r\nSet-Cookie: x=1', '/user/carol/'],
  ])('%j → %s', async (next, expected) => {
    expect(await nextFor(next)).toBe(expected);
  });

  it('reduces a same-host absolute URL to its path, query and fragment', async () => {
    expect(await nextFor(`http://${host()}/hub/token`)).toBe('/hub/token');
    expect(await nextFor(`//${host()}/hub/token?x=1`)).toBe('/hub/token?x=1');
    expect(await nextFor(`http://${host()}/user/carol/tree`)).toBe('/hub/user/carol/tree');
  });

  it('does not take a host that merely starts like ours', async () => {
    expect(await nextFor(`http://${host()}.evil.com/hub/token`)).toBe('/user/carol/');
    expect(await nextFor(`http://${host()}@evil.com/`)).toBe('/user/carol/');
  });

  it('falls back to the spawn page once the server is stopped', async () => {
    expect((await hub.api('/users/carol/server', { method: 'DELETE' })).status).toBe(204);
    expect(await nextFor('https://evil.com/x')).toBe('/hub/spawn');
  });
});
