// Every aggregate of the store against a real sqlite file: CRUD, hashing of secrets, single-use codes, cascades.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashToken, openStore, type SqliteStore } from '../src/store/index.ts';

let dir: string;
let store: SqliteStore;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nodehub-store-'));
  store = openStore(`sqlite:///${join(dir, 'hub.sqlite')}`);
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Every byte sqlite wrote for this database: main file, WAL and shared memory. */
const fileBytes = () => Buffer.concat(readdirSync(dir).map((f) => readFileSync(join(dir, f))));

describe('users', () => {
  it('creates, finds, updates, touches and deletes', () => {
    const before = Date.now();
    const bob = store.users.create('bob', { admin: true });
    expect(bob).toMatchObject({ name: 'bob', admin: true, last_activity: null, auth_state: null });
    expect(bob.created).toBeGreaterThanOrEqual(before);
    expect(bob.cookie_id).toMatch(/^[0-9a-f]{32}$/);
    expect(store.users.get('bob')).toEqual(bob);
    expect(store.users.getById(bob.id)).toEqual(bob);
    expect(store.users.getByCookieId(bob.cookie_id)).toEqual(bob);
    expect(store.users.get('nobody')).toBeUndefined();
    expect(() => store.users.create('bob')).toThrow('user bob already exists');

    const updated = store.users.update(bob.id, { admin: false, auth_state: { access_token: 'x', n: 1 } });
    expect(updated).toMatchObject({ name: 'bob', admin: false, auth_state: { access_token: 'x', n: 1 }, cookie_id: bob.cookie_id });
    expect(store.users.update(bob.id, { auth_state: null }).auth_state).toBeNull();

    store.users.touch(bob.id, 5000);
    store.users.touch(bob.id, 3000);
    expect(store.users.getById(bob.id)?.last_activity).toBe(5000);

    store.users.delete(bob.id);
    expect(store.users.get('bob')).toBeUndefined();
    expect(store.users.getByCookieId(bob.cookie_id)).toBeUndefined();
    expect(store.users.count()).toBe(0);
  });

  it('renaming moves the name and invalidates the login cookie id', () => {
    const a = store.users.create('a');
    store.users.create('taken');
    const renamed = store.users.update(a.id, { name: 'b' });
    expect(renamed.name).toBe('b');
    expect(renamed.cookie_id).not.toBe(a.cookie_id);
    expect(store.users.getByCookieId(a.cookie_id)).toBeUndefined();
    expect(store.users.get('a')).toBeUndefined();
    expect(() => store.users.update(a.id, { name: 'taken' })).toThrow('user taken already exists');
    expect(() => store.users.update(9999, { admin: true })).toThrow('no user with id 9999');
  });
});

describe('servers', () => {
  it('ensure is idempotent, update patches only given fields, touch only moves forward', () => {
    const u = store.users.create('carol');
    const s = store.servers.ensure(u.id, '');
    expect(s).toMatchObject({ user_id: u.id, name: '', started: null, url: null, state: {}, user_options: {} });
    expect(store.servers.ensure(u.id, '').id).toBe(s.id);
    store.servers.update(s.id, { started: 1000, url: 'http://127.0.0.1:4000', state: { pid: 42 }, user_options: { profile: 'a' } });
    store.servers.update(s.id, { last_activity: 2000 });
    expect(store.servers.get(u.id, '')).toEqual({
      ...s, started: 1000, last_activity: 2000, url: 'http://127.0.0.1:4000', state: { pid: 42 }, user_options: { profile: 'a' },
    });
    store.servers.touch(s.id, 1500);
    expect(store.servers.get(u.id, '')?.last_activity).toBe(2000);
    store.servers.update(s.id, { started: null, url: null, state: {} });
    expect(store.servers.get(u.id, '')).toMatchObject({ started: null, url: null, state: {}, user_options: { profile: 'a' } });
    store.servers.ensure(u.id, 'gpu');
    expect(store.servers.listForUser(u.id).map((x) => x.name)).toEqual(['', 'gpu']);
    store.servers.delete(s.id);
    expect(store.servers.listForUser(u.id).map((x) => x.name)).toEqual(['gpu']);
  });

  it('listActive returns started servers with their user name', () => {
    const a = store.users.create('a');
    const b = store.users.create('b');
    store.servers.ensure(a.id, '');
    const bs = store.servers.ensure(b.id, 'named');
    store.servers.update(bs.id, { started: 10, state: { pid: 7 } });
    const active = store.servers.listActive();
    expect(active).toHaveLength(1);
    expect(active[0]).toMatchObject({ id: bs.id, user_name: 'b', name: 'named', started: 10, state: { pid: 7 } });
    expect(store.servers.countActive()).toBe(1);
  });
});

describe('tokens', () => {
  it('finds a token by its plain value only, and never stores the value', () => {
    const u = store.users.create('dave');
    const plain = 'f2c5b0a1d8e94c1f9a7b3c6d5e4f3a2b';
    const t = store.tokens.create({ user_id: u.id, kind: 'api', token: plain, note: 'ci', scopes: ['read:users!user=dave'] });
    expect(t).toMatchObject({ user_id: u.id, service_id: null, kind: 'api', prefix: 'f2c5', note: 'ci', client_id: 'jupyterhub' });
    expect(t.scopes).toEqual(['read:users!user=dave']);
    expect(store.tokens.find(plain)).toEqual(t);
    expect(store.tokens.find(plain.slice(0, -1) + '0')).toBeUndefined();
    expect(store.tokens.find('')).toBeUndefined();
    expect(store.tokens.get(t.id)).toEqual(t);
    // The check can fail: the hash is in the file, the plain token is not.
    expect(fileBytes().includes(hashToken(plain))).toBe(true);
    expect(fileBytes().includes(plain)).toBe(false);
    store.close();
    expect(fileBytes().includes(plain)).toBe(false);
  });

  it('ignores and purges expired tokens', () => {
    const u = store.users.create('erin');
    const gone = store.tokens.create({ user_id: u.id, kind: 'api', token: 'expired-token-0001', expires_at: Date.now() - 1 });
    const live = store.tokens.create({ user_id: u.id, kind: 'api', token: 'live-token-000001', expires_at: Date.now() + 60_000 });
    expect(store.tokens.find('expired-token-0001')).toBeUndefined();
    expect(store.tokens.find('live-token-000001')?.id).toBe(live.id);
    expect(store.tokens.purgeExpired(Date.now())).toBe(1);
    expect(store.tokens.get(gone.id)).toBeUndefined();
    expect(store.tokens.listForUser(u.id).map((t) => t.id)).toEqual([live.id]);
  });

  it('lists, touches and deletes by id, client and session', () => {
    const u = store.users.create('fay');
    const svc = store.services.upsert('announce', false);
    const api = store.tokens.create({ user_id: u.id, kind: 'api', token: 'api-token-0000001' });
    store.tokens.create({ user_id: u.id, kind: 'oauth', token: 'oauth-token-00001', client_id: 'jupyterhub-user-fay', session_id: 's1' });
    store.tokens.create({ user_id: u.id, kind: 'oauth', token: 'oauth-token-00002', client_id: 'jupyterhub-user-fay', session_id: 's2' });
    const st = store.tokens.create({ service_id: svc.id, kind: 'api', token: 'service-token-001' });
    expect(store.tokens.listForService(svc.id).map((t) => t.id)).toEqual([st.id]);
    store.tokens.touch(api.id, 100);
    store.tokens.touch(api.id, 50);
    expect(store.tokens.get(api.id)?.last_activity).toBe(100);
    store.tokens.deleteForSession('s1');
    expect(store.tokens.find('oauth-token-00001')).toBeUndefined();
    store.tokens.deleteForClient('jupyterhub-user-fay', u.id);
    expect(store.tokens.listForUser(u.id).map((t) => t.id)).toEqual([api.id]);
    store.tokens.delete(api.id);
    expect(store.tokens.listForUser(u.id)).toEqual([]);
    expect(() => store.tokens.create({ user_id: u.id, kind: 'api', token: 'short' })).toThrow(/at least 8/);
  });
});

describe('oauth', () => {
  const client = { identifier: 'jupyterhub-user-gus', description: 'Server at /user/gus/', redirect_uri: '/user/gus/oauth_callback', allowed_scopes: ['access:servers!server=gus/'] };

  it('stores clients with a hashed secret', () => {
    store.oauth.upsertClient({ ...client, secret: 'client-secret-value-123' });
    expect(store.oauth.getClient(client.identifier)).toEqual({ ...client, secret_hash: hashToken('client-secret-value-123') });
    store.oauth.upsertClient({ ...client, redirect_uri: '/other', secret: 'second-secret-value-45' });
    expect(store.oauth.getClient(client.identifier)?.redirect_uri).toBe('/other');
    expect(fileBytes().includes('second-secret-value-45')).toBe(false);
  });

  it('codes are hashed, single-use and expire; deleting the client takes its codes and tokens', () => {
    const u = store.users.create('gus');
    store.oauth.upsertClient({ ...client, secret: 'client-secret-value-123' });
    const rec = { client_id: client.identifier, user_id: u.id, scopes: ['read:users!user=gus'], session_id: 'sess', redirect_uri: client.redirect_uri, expires_at: 10_000 };
    store.oauth.createCode('code-abcdefghijklmnopqrstuvwxyz1', rec);
    expect(fileBytes().includes('code-abcdefghijklmnopqrstuvwxyz1')).toBe(false);
    expect(store.oauth.consumeCode('code-abcdefghijklmnopqrstuvwxyz1', 9_999)).toEqual(rec);
    expect(store.oauth.consumeCode('code-abcdefghijklmnopqrstuvwxyz1', 9_999)).toBeUndefined();

    store.oauth.createCode('code-expired', rec);
    expect(store.oauth.consumeCode('code-expired', 10_000)).toBeUndefined();
    store.oauth.createCode('code-left-over', rec);
    expect(store.oauth.purgeExpiredCodes(10_000)).toBe(1);
    expect(store.oauth.consumeCode('code-left-over', 0)).toBeUndefined();
    expect(() => store.oauth.createCode('c', { ...rec, client_id: 'unknown' })).toThrow('unknown OAuth client unknown');

    store.oauth.createCode('code-pending', rec);
    store.tokens.create({ user_id: u.id, kind: 'oauth', token: 'oauth-token-gus-01', client_id: client.identifier });
    const keep = store.tokens.create({ user_id: u.id, kind: 'api', token: 'api-token-gus-0001' });
    store.oauth.deleteClient(client.identifier);
    expect(store.oauth.getClient(client.identifier)).toBeUndefined();
    expect(store.oauth.consumeCode('code-pending', 0)).toBeUndefined();
    expect(store.tokens.listForUser(u.id).map((t) => t.id)).toEqual([keep.id]);
  });
});

describe('groups, roles, services', () => {
  it('groups: create, page, membership', () => {
    const [a, b] = [store.users.create('a'), store.users.create('b')];
    const g1 = store.groups.create('g1', { course: 'x' });
    const g2 = store.groups.create('g2');
    store.groups.create('g3');
    expect(store.groups.get('g1')).toEqual({ id: g1.id, name: 'g1', properties: { course: 'x' } });
    expect(() => store.groups.create('g1')).toThrow('group g1 already exists');
    expect(store.groups.page({ offset: 1, limit: 1 })).toEqual({ items: [g2], total: 3 });
    expect(store.groups.page({ offset: 0, limit: 10, names: ['g2', 'g3', 'nope'] }).items.map((g) => g.name)).toEqual(['g2', 'g3']);
    store.groups.addUsers(g1.id, [b.id, a.id, a.id]);
    store.groups.addUsers(g2.id, [a.id]);
    expect(store.groups.memberNames(g1.id)).toEqual(['a', 'b']);
    expect(store.groups.groupsOfUser(a.id)).toEqual(['g1', 'g2']);
    store.groups.removeUsers(g1.id, [a.id]);
    expect(store.groups.memberNames(g1.id)).toEqual(['b']);
    store.groups.delete(g2.id);
    expect(store.groups.groupsOfUser(a.id)).toEqual([]);
  });

  it('roles: upsert keeps holders, set replaces atomically, unknown role refused', () => {
    const u = store.users.create('u');
    const g = store.groups.create('g');
    const s = store.services.upsert('svc', true);
    store.roles.upsert({ name: 'user', description: 'default', scopes: ['self'] });
    store.roles.upsert({ name: 'teacher', description: '', scopes: ['admin:users'] });
    store.roles.setForUser(u.id, ['user', 'teacher']);
    store.roles.setForGroup(g.id, ['teacher']);
    store.roles.setForService(s.id, ['user']);
    store.roles.upsert({ name: 'teacher', description: 'now described', scopes: ['users'] });
    expect(store.roles.get('teacher')).toEqual({ name: 'teacher', description: 'now described', scopes: ['users'] });
    expect(store.roles.list().map((r) => r.name)).toEqual(['teacher', 'user']);
    expect(store.roles.ofUser(u.id)).toEqual(['teacher', 'user']);
    expect(store.roles.ofGroup(g.id)).toEqual(['teacher']);
    expect(store.roles.ofService(s.id)).toEqual(['user']);
    expect(() => store.roles.setForUser(u.id, ['user', 'ghost'])).toThrow('no role named ghost');
    expect(store.roles.ofUser(u.id)).toEqual(['teacher', 'user']);
    store.roles.setForUser(u.id, []);
    store.roles.addToUser(u.id, 'user');
    store.roles.addToUser(u.id, 'user');
    expect(store.roles.ofUser(u.id)).toEqual(['user']);
    store.roles.delete('user');
    expect(store.roles.ofUser(u.id)).toEqual([]);
  });

  it('services: upsert, look-ups, and removal with their tokens and roles', () => {
    const a = store.services.upsert('a', false);
    expect(store.services.upsert('a', true)).toEqual({ ...a, admin: true });
    const b = store.services.upsert('b', false);
    expect(store.services.get('b')).toEqual(b);
    expect(store.services.getById(a.id)?.name).toBe('a');
    store.roles.upsert({ name: 'r', description: '', scopes: [] });
    store.roles.setForService(b.id, ['r']);
    const t = store.tokens.create({ service_id: b.id, kind: 'api', token: 'service-b-token-01' });
    store.services.deleteExcept(['a']);
    expect(store.services.list().map((s) => s.name)).toEqual(['a']);
    expect(store.tokens.get(t.id)).toBeUndefined();
    expect(store.roles.ofService(b.id)).toEqual([]);
  });
});

describe('deleting a user', () => {
  it('takes servers, tokens, codes, group membership and roles with it', () => {
    const u = store.users.create('henry');
    const other = store.users.create('iris');
    const g = store.groups.create('g');
    store.groups.addUsers(g.id, [u.id, other.id]);
    store.roles.upsert({ name: 'user', description: '', scopes: ['self'] });
    store.roles.addToUser(u.id, 'user');
    const s = store.servers.ensure(u.id, '');
    store.servers.update(s.id, { started: 1 });
    const t = store.tokens.create({ user_id: u.id, kind: 'api', token: 'henry-token-00001' });
    store.oauth.upsertClient({ identifier: 'c', description: '', redirect_uri: '/cb', allowed_scopes: [], secret: 'secret-secret' });
    store.oauth.createCode('henry-code-000001', { client_id: 'c', user_id: u.id, scopes: [], session_id: null, redirect_uri: '/cb', expires_at: Date.now() + 60_000 });
    store.users.delete(u.id);
    expect(store.servers.listForUser(u.id)).toEqual([]);
    expect(store.servers.countActive()).toBe(0);
    expect(store.tokens.get(t.id)).toBeUndefined();
    expect(store.oauth.consumeCode('henry-code-000001', 0)).toBeUndefined();
    expect(store.groups.memberNames(g.id)).toEqual(['iris']);
    expect(store.roles.ofUser(u.id)).toEqual([]);
    expect(store.users.get('iris')).toBeDefined();
  });
});

describe('users.page', () => {
  it('filters by state, name substring and names, with offset, limit and total', () => {
    const names = ['Alice', 'bob', 'carol', 'dan', 'erin', 'frank', '100%_real'];
    const ids = Object.fromEntries(names.map((n) => [n, store.users.create(n).id]));
    const start = (name: string, url: string | null) => {
      const s = store.servers.ensure(ids[name]!, '');
      store.servers.update(s.id, { started: 1, url });
    };
    start('bob', 'http://127.0.0.1:1');
    start('dan', null); // spawning: active but not ready
    start('frank', 'http://127.0.0.1:2');
    store.servers.ensure(ids.carol!, ''); // stopped server
    const page = (q: Parameters<typeof store.users.page>[0]) => {
      const r = store.users.page(q);
      return { names: r.items.map((u) => u.name), total: r.total };
    };
    expect(page({ offset: 0, limit: 3 })).toEqual({ names: ['Alice', 'bob', 'carol'], total: 7 });
    expect(page({ offset: 6, limit: 3 })).toEqual({ names: ['100%_real'], total: 7 });
    expect(page({ offset: 0, limit: 10, state: 'active' })).toEqual({ names: ['bob', 'dan', 'frank'], total: 3 });
    expect(page({ offset: 1, limit: 1, state: 'active' })).toEqual({ names: ['dan'], total: 3 });
    expect(page({ offset: 0, limit: 10, state: 'ready' })).toEqual({ names: ['bob', 'frank'], total: 2 });
    expect(page({ offset: 0, limit: 2, state: 'inactive' })).toEqual({ names: ['Alice', 'carol'], total: 4 });
    expect(page({ offset: 0, limit: 10, nameFilter: 'AL' })).toEqual({ names: ['Alice', '100%_real'], total: 2 });
    expect(page({ offset: 0, limit: 10, nameFilter: '%_' })).toEqual({ names: ['100%_real'], total: 1 });
    expect(page({ offset: 0, limit: 10, nameFilter: 'r', state: 'inactive' })).toEqual({ names: ['carol', 'erin', '100%_real'], total: 3 });
    expect(page({ offset: 0, limit: 10, names: ['frank', 'bob', 'zed'] })).toEqual({ names: ['bob', 'frank'], total: 2 });
    expect(page({ offset: 0, limit: 10, names: ['frank', 'bob', 'carol'], state: 'ready' })).toEqual({ names: ['bob', 'frank'], total: 2 });
    expect(page({ offset: 0, limit: 10, names: [] })).toEqual({ names: [], total: 0 });
    expect(page({ offset: 0, limit: 0 })).toEqual({ names: [], total: 7 });
    expect(() => store.users.page({ offset: -1, limit: 5 })).toThrow(/offset/);
    expect(() => store.users.page({ offset: 0, limit: 5, state: 'running' as never })).toThrow('unknown user state running');
    expect(() => store.users.page({ offset: 0, limit: 5, state: 'toString' as never })).toThrow('unknown user state toString');
  });
});

describe('activity', () => {
  it('counts distinct active users per window, also after they are deleted', () => {
    const day = 86_400_000;
    const now = 100 * day + 3_600_000;
    for (const name of ['a', 'b', 'c']) store.users.create(name);
    store.activity.record('a', now - 1000);
    store.activity.record('a', now - 2000); // same user, same day: one row
    store.activity.record('b', now - 2 * day);
    store.activity.record('c', now - 10 * day);
    store.activity.record('c', now - 5 * 60_000);
    for (const name of ['a', 'b', 'c']) store.users.delete(store.users.get(name)!.id);
    expect(store.users.count()).toBe(0);
    expect(store.activity.countSince(now - 60_000)).toBe(1);
    expect(store.activity.countSince(now - day)).toBe(2);
    expect(store.activity.countSince(now - 7 * day)).toBe(3);
    expect(store.activity.countSince(now + 1)).toBe(0);
    store.activity.prune(now - 3 * day);
    expect(store.activity.countSince(0)).toBe(3);
    store.activity.prune(now - day);
    expect(store.activity.countSince(0)).toBe(2);
  });
});

describe('transaction', () => {
  it('rolls back everything when the function throws', () => {
    expect(() =>
      store.transaction(() => {
        store.users.create('x');
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(store.users.get('x')).toBeUndefined();
    expect(store.transaction(() => store.users.create('y').name)).toBe('y');
  });
});
