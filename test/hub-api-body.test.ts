// The REST API reads a request body as JSON whatever its content type, as JupyterHub 3.0's get_json_body does: admin
// scripts that POST JSON with curl's -d (which sends a form content type) get what they asked for, and a body that is
// not JSON is a 400 rather than silently ignored. The OAuth token endpoint under /hub/api still takes its form.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestHub, type TestHub } from './support/hub.ts';

const profiles = [
  { display_name: 'Small', slug: 'small' },
  { display_name: 'Big', slug: 'big', kubespawner_override: { environment: { SIZE: 'big' } } },
];

let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub({ Spawner: { profile_list: profiles } });
});
afterAll(() => hub?.close());

async function serverEnv(user: string): Promise<Record<string, string>> {
  await eventually(async () => (await hub.api(`/users/${user}`).then((r) => r.json())).servers?.['']?.ready, 20_000);
  return (await fetch(`${hub.origin}/user/${user}/env`)).json();
}

describe('API request bodies', () => {
  it("take JSON sent the way curl -d sends it (a form content type)", async () => {
    expect((await hub.api('/users/ann', { method: 'POST' })).status).toBe(201);
    // Not execFileSync: the hub runs in this process and must answer while curl waits.
    const { stdout: status } = await promisify(execFile)('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-X', 'POST',
      '-H', `Authorization: token ${hub.adminToken}`, '-d', '{"profile": "big"}', `${hub.url}hub/api/users/ann/server`]);
    expect(['201', '202']).toContain(status);
    expect((await serverEnv('ann')).SIZE).toBe('big');
  });

  it('take JSON sent as text/plain, and create users from it', async () => {
    const r = await hub.api('/users', { method: 'POST', headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ usernames: ['bea', 'cid'] }) });
    expect(r.status).toBe(201);
    expect((await r.json()).map((u: { name: string }) => u.name).sort()).toEqual(['bea', 'cid']);
  });

  it('answer a body that is not JSON with a 400 and start nothing', async () => {
    expect((await hub.api('/users/dee', { method: 'POST' })).status).toBe(201);
    for (const type of ['application/x-www-form-urlencoded', 'text/plain', 'application/json']) {
      const r = await hub.api('/users/dee/server', { method: 'POST', headers: { 'content-type': type }, body: 'profile=big' });
      expect(r.status).toBe(400);
      expect(await r.json()).toEqual({ status: 400, message: 'Invalid JSON in request body' });
    }
    expect((await (await hub.api('/users/dee')).json()).servers).toEqual({});
  });

  it('still read the OAuth token endpoint as a form', async () => {
    const r = await hub.api('/oauth2/token', { method: 'POST', token: null,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=authorization_code&client_id=nobody&client_secret=wrong&code=x' });
    // A form the endpoint could read: the client is checked (and refused), not a JSON parse error.
    expect(r.status).toBe(401);
    expect(await r.json()).toEqual({ error: 'invalid_client' });
  });
});
