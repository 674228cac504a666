// The store's contract, run against both backends: a real sqlite file and a real PostgreSQL (the throw-away server
// test/support/postgres-global.ts starts). CRUD, hashing of secrets, single-use codes, cascades, pages, transactions.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashToken, latestVersion, openStore, parseDbUrl, pendingMigrationsFor } from '../src/store/index.ts';
import { listMigrations, postgresSql } from '../src/store/migrate.ts';
import type { Store } from '../src/store/types.ts';
import { createDatabase, emptyDatabase, postgresRows } from './support/postgres.ts';

describe.each(['sqlite', 'postgres'] as const)('%s', (backend) => {
  let dir: string;
  let url: string;
  let store: Store;
  let pgUrl: string | undefined;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nodehub-store-'));
    if (backend === 'sqlite') url = `sqlite:///${join(dir, 'hub.sqlite')}`;
    else if (pgUrl) await emptyDatabase((url = pgUrl));
    else url = pgUrl = await createDatabase('contract');
    store = await openStore(url);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Everything the database holds, as bytes: sqlite's files (main, WAL, shared memory), or every PostgreSQL row as text. */
  const stored = async (): Promise<Buffer> => {
    if (backend === 'sqlite') return Buffer.concat(readdirSync(dir).map((f) => readFileSync(join(dir, f))));
    const loc = parseDbUrl(url);
    if (loc.kind !== 'postgres') throw new Error('not postgres');
    return postgresRows({ host: loc.host, user: loc.user, database: loc.database });
  };

  describe('users', () => {
    it('creates, finds, updates, touches and deletes', async () => {
      const before = Date.now();
      const bob = await store.users.create('bob', { admin: true });
      expect(bob).toMatchObject({ name: 'bob', admin: true, last_activity: null, auth_state: null });
      expect(bob.created).toBeGreaterThanOrEqual(before);
      expect(bob.cookie_id).toMatch(/^[0-9a-f]{32}$/);
      expect(await store.users.get('bob')).toEqual(bob);
      expect(await store.users.getById(bob.id)).toEqual(bob);
      expect(await store.users.getByCookieId(bob.cookie_id)).toEqual(bob);
      expect(await store.users.get('nobody')).toBeUndefined();
      await expect(async () => await store.users.create('bob')).rejects.toThrow('user bob already exists');

      const updated = await store.users.update(bob.id, { admin: false, auth_state: { access_token: 'x', n: 1 } });
      expect(updated).toMatchObject({ name: 'bob', admin: false, auth_state: { access_token: 'x', n: 1 }, cookie_id: bob.cookie_id });
      expect((await store.users.update(bob.id, { auth_state: null })).auth_state).toBeNull();

      await store.users.touch(bob.id, 5000);
      await store.users.touch(bob.id, 3000);
      expect((await store.users.getById(bob.id))?.last_activity).toBe(5000);

      await store.users.delete(bob.id);
      expect(await store.users.get('bob')).toBeUndefined();
      expect(await store.users.getByCookieId(bob.cookie_id)).toBeUndefined();
      expect(await store.users.count()).toBe(0);
    });

    it('add gives undefined for a taken name (one insert, no error); a login makes its user active at once', async () => {
      const made = await store.users.add('eve', { lastActivity: 7000 });
      expect(made).toMatchObject({ name: 'eve', admin: false, last_activity: 7000 });
      expect(await store.users.add('eve', { admin: true })).toBeUndefined();
      expect(await store.users.get('eve')).toEqual(made);
      await expect(async () => await store.users.add('')).rejects.toThrow('non-empty');
      // a taken name inside a transaction leaves the transaction usable (on PostgreSQL a unique violation would abort it)
      const names = await store.tx(async (s) => {
        expect(await s.users.add('eve')).toBeUndefined();
        await expect(async () => await s.users.create('eve')).rejects.toThrow('user eve already exists');
        return [(await s.users.create('frank')).name, (await s.users.get('eve'))?.name];
      });
      expect(names).toEqual(['frank', 'eve']);
      expect(await store.users.count()).toBe(2);
    });

    it('renaming moves the name and invalidates the login cookie id', async () => {
      const a = await store.users.create('a');
      await store.users.create('taken');
      const renamed = await store.users.update(a.id, { name: 'b' });
      expect(renamed.name).toBe('b');
      expect(renamed.cookie_id).not.toBe(a.cookie_id);
      expect(await store.users.getByCookieId(a.cookie_id)).toBeUndefined();
      expect(await store.users.get('a')).toBeUndefined();
      await expect(async () => await store.users.update(a.id, { name: 'taken' })).rejects.toThrow('user taken already exists');
      await expect(async () => await store.users.update(9999, { admin: true })).rejects.toThrow('no user with id 9999');
    });
  });

  it('text with a NUL character: never stored, a lookup by it finds nothing, a write with it is refused as invalid', async () => {
    // PostgreSQL's text cannot hold U+0000; a raw driver error here was a 500 for GET /hub/api/users/%00
    await store.users.create('bob');
    expect(await store.users.get('bob\0')).toBeUndefined();
    expect(await store.users.get('\0')).toBeUndefined();
    await expect(store.users.create('eve\0')).rejects.toMatchObject({ kind: 'invalid', message: expect.stringMatching(/NUL/) });
    expect(await store.users.get('eve')).toBeUndefined();
    expect((await store.users.get('bob'))?.name).toBe('bob');
  });

  describe('servers', () => {
    it('ensure is idempotent, update patches only given fields, touch only moves forward', async () => {
      const u = await store.users.create('carol');
      const s = await store.servers.ensure(u.id, '');
      expect(s).toMatchObject({ user_id: u.id, name: '', started: null, url: null, state: {}, user_options: {} });
      expect((await store.servers.ensure(u.id, '')).id).toBe(s.id);
      await store.servers.update(s.id, { started: 1000, url: 'http://127.0.0.1:4000', state: { pid: 42 }, user_options: { profile: 'a' } });
      await store.servers.update(s.id, { last_activity: 2000 });
      expect(await store.servers.get(u.id, '')).toEqual({
        ...s, started: 1000, last_activity: 2000, url: 'http://127.0.0.1:4000', state: { pid: 42 }, user_options: { profile: 'a' },
      });
      await store.servers.touch(s.id, 1500);
      expect((await store.servers.get(u.id, ''))?.last_activity).toBe(2000);
      await store.servers.update(s.id, { started: null, url: null, state: {} });
      expect(await store.servers.get(u.id, '')).toMatchObject({ started: null, url: null, state: {}, user_options: { profile: 'a' } });
      await store.servers.ensure(u.id, 'gpu');
      expect((await store.servers.listForUser(u.id)).map((x) => x.name)).toEqual(['', 'gpu']);
      await store.servers.delete(s.id);
      expect((await store.servers.listForUser(u.id)).map((x) => x.name)).toEqual(['gpu']);
    });

    it('listActive returns started servers with their user name', async () => {
      const a = await store.users.create('a');
      const b = await store.users.create('b');
      await store.servers.ensure(a.id, '');
      const bs = await store.servers.ensure(b.id, 'named');
      await store.servers.update(bs.id, { started: 10, state: { pid: 7 } });
      const active = await store.servers.listActive();
      expect(active).toHaveLength(1);
      expect(active[0]).toMatchObject({ id: bs.id, user_name: 'b', name: 'named', started: 10, state: { pid: 7 } });
      expect(await store.servers.countActive()).toBe(1);
      // one user's, by name: what a hub that finds no route for the user reads
      expect(await store.servers.listActiveOfUser('b')).toEqual([active[0]]);
      expect(await store.servers.listActiveOfUser('a')).toEqual([]);
      expect(await store.servers.listActiveOfUser('nobody')).toEqual([]);
    });
  });

  describe('tokens', () => {
    it('finds a token by its plain value only, and never stores the value', async () => {
      const u = await store.users.create('dave');
      const plain = 'f2c5b0a1d8e94c1f9a7b3c6d5e4f3a2b';
      const t = await store.tokens.create({ user_id: u.id, kind: 'api', token: plain, note: 'ci', scopes: ['read:users!user=dave'] });
      expect(t).toMatchObject({ user_id: u.id, service_id: null, kind: 'api', prefix: 'f2c5', note: 'ci', client_id: 'jupyterhub' });
      expect(t.scopes).toEqual(['read:users!user=dave']);
      expect(await store.tokens.find(plain)).toEqual(t);
      expect(await store.tokens.find(plain.slice(0, -1) + '0')).toBeUndefined();
      expect(await store.tokens.find('')).toBeUndefined();
      expect(await store.tokens.get(t.id)).toEqual(t);
      // The check can fail: the hash is in the file, the plain token is not.
      expect((await stored()).includes(hashToken(plain))).toBe(true);
      expect((await stored()).includes(plain)).toBe(false);
      await store.close();
      expect((await stored()).includes(plain)).toBe(false);
    });

    it('ignores and purges expired tokens', async () => {
      const u = await store.users.create('erin');
      const gone = await store.tokens.create({ user_id: u.id, kind: 'api', token: 'expired-token-0001', expires_at: Date.now() - 1 });
      const live = await store.tokens.create({ user_id: u.id, kind: 'api', token: 'live-token-000001', expires_at: Date.now() + 60_000 });
      expect(await store.tokens.find('expired-token-0001')).toBeUndefined();
      expect((await store.tokens.find('live-token-000001'))?.id).toBe(live.id);
      expect(await store.tokens.purgeExpired(Date.now())).toBe(1);
      expect(await store.tokens.get(gone.id)).toBeUndefined();
      expect((await store.tokens.listForUser(u.id)).map((t) => t.id)).toEqual([live.id]);
    });

    it('lists, touches and deletes by id, client and session', async () => {
      const u = await store.users.create('fay');
      const svc = await store.services.upsert('announce', false);
      const api = await store.tokens.create({ user_id: u.id, kind: 'api', token: 'api-token-0000001' });
      await store.tokens.create({ user_id: u.id, kind: 'oauth', token: 'oauth-token-00001', client_id: 'jupyterhub-user-fay', session_id: 's1' });
      await store.tokens.create({ user_id: u.id, kind: 'oauth', token: 'oauth-token-00002', client_id: 'jupyterhub-user-fay', session_id: 's2' });
      const st = await store.tokens.create({ service_id: svc.id, kind: 'api', token: 'service-token-001' });
      expect((await store.tokens.listForService(svc.id)).map((t) => t.id)).toEqual([st.id]);
      await store.tokens.touch(api.id, 100);
      await store.tokens.touch(api.id, 50);
      expect((await store.tokens.get(api.id))?.last_activity).toBe(100);
      await store.tokens.deleteForSession('s1');
      expect(await store.tokens.find('oauth-token-00001')).toBeUndefined();
      await store.tokens.deleteForClient('jupyterhub-user-fay', u.id);
      expect((await store.tokens.listForUser(u.id)).map((t) => t.id)).toEqual([api.id]);
      await store.tokens.delete(api.id);
      expect(await store.tokens.listForUser(u.id)).toEqual([]);
      await expect(async () => await store.tokens.create({ user_id: u.id, kind: 'api', token: 'short' })).rejects.toThrow(/at least 8/);
    });
  });

  describe('oauth', () => {
    const client = { identifier: 'jupyterhub-user-gus', description: 'Server at /user/gus/', redirect_uri: '/user/gus/oauth_callback', allowed_scopes: ['access:servers!server=gus/'] };

    it('stores clients with a hashed secret', async () => {
      await store.oauth.upsertClient({ ...client, secret: 'client-secret-value-123' });
      expect(await store.oauth.getClient(client.identifier)).toEqual({ ...client, secret_hash: hashToken('client-secret-value-123') });
      await store.oauth.upsertClient({ ...client, redirect_uri: '/other', secret: 'second-secret-value-45' });
      expect((await store.oauth.getClient(client.identifier))?.redirect_uri).toBe('/other');
      expect((await stored()).includes('second-secret-value-45')).toBe(false);
    });

    it('codes are hashed, single-use and expire; deleting the client takes its codes and tokens', async () => {
      const u = await store.users.create('gus');
      await store.oauth.upsertClient({ ...client, secret: 'client-secret-value-123' });
      const rec = { client_id: client.identifier, user_id: u.id, scopes: ['read:users!user=gus'], session_id: 'sess', redirect_uri: client.redirect_uri, expires_at: 10_000 };
      await store.oauth.createCode('code-abcdefghijklmnopqrstuvwxyz1', rec);
      expect((await stored()).includes('code-abcdefghijklmnopqrstuvwxyz1')).toBe(false);
      expect(await store.oauth.consumeCode('code-abcdefghijklmnopqrstuvwxyz1', 9_999)).toEqual(rec);
      expect(await store.oauth.consumeCode('code-abcdefghijklmnopqrstuvwxyz1', 9_999)).toBeUndefined();

      await store.oauth.createCode('code-expired', rec);
      expect(await store.oauth.consumeCode('code-expired', 10_000)).toBeUndefined();
      await store.oauth.createCode('code-left-over', rec);
      expect(await store.oauth.purgeExpiredCodes(10_000)).toBe(1);
      expect(await store.oauth.consumeCode('code-left-over', 0)).toBeUndefined();
      await expect(async () => await store.oauth.createCode('c', { ...rec, client_id: 'unknown' })).rejects.toThrow('unknown OAuth client unknown');

      await store.oauth.createCode('code-pending', rec);
      await store.tokens.create({ user_id: u.id, kind: 'oauth', token: 'oauth-token-gus-01', client_id: client.identifier });
      const keep = await store.tokens.create({ user_id: u.id, kind: 'api', token: 'api-token-gus-0001' });
      await store.oauth.deleteClient(client.identifier);
      expect(await store.oauth.getClient(client.identifier)).toBeUndefined();
      expect(await store.oauth.consumeCode('code-pending', 0)).toBeUndefined();
      expect((await store.tokens.listForUser(u.id)).map((t) => t.id)).toEqual([keep.id]);
    });
  });

  describe('groups, roles, services', () => {
    it('groups: create, page, membership', async () => {
      const [a, b] = [await store.users.create('a'), await store.users.create('b')];
      const g1 = await store.groups.create('g1', { course: 'x' });
      const g2 = await store.groups.create('g2');
      await store.groups.create('g3');
      expect(await store.groups.get('g1')).toEqual({ id: g1.id, name: 'g1', properties: { course: 'x' } });
      await expect(async () => await store.groups.create('g1')).rejects.toThrow('group g1 already exists');
      expect(await store.groups.page({ offset: 1, limit: 1 })).toEqual({ items: [g2], total: 3 });
      expect((await store.groups.page({ offset: 0, limit: 10, names: ['g2', 'g3', 'nope'] })).items.map((g) => g.name)).toEqual(['g2', 'g3']);
      await store.groups.addUsers(g1.id, [b.id, a.id, a.id]);
      await store.groups.addUsers(g2.id, [a.id]);
      expect(await store.groups.memberNames(g1.id)).toEqual(['a', 'b']);
      expect(await store.groups.groupsOfUser(a.id)).toEqual(['g1', 'g2']);
      await store.groups.removeUsers(g1.id, [a.id]);
      expect(await store.groups.memberNames(g1.id)).toEqual(['b']);
      await store.groups.delete(g2.id);
      expect(await store.groups.groupsOfUser(a.id)).toEqual([]);
    });

    it('roles: upsert keeps holders, set replaces atomically, unknown role refused', async () => {
      const u = await store.users.create('u');
      const g = await store.groups.create('g');
      const s = await store.services.upsert('svc', true);
      await store.roles.upsert({ name: 'user', description: 'default', scopes: ['self'] });
      await store.roles.upsert({ name: 'teacher', description: '', scopes: ['admin:users'] });
      await store.roles.setForUser(u.id, ['user', 'teacher']);
      await store.roles.setForGroup(g.id, ['teacher']);
      await store.roles.setForService(s.id, ['user']);
      await store.roles.upsert({ name: 'teacher', description: 'now described', scopes: ['users'] });
      expect(await store.roles.get('teacher')).toEqual({ name: 'teacher', description: 'now described', scopes: ['users'] });
      expect((await store.roles.list()).map((r) => r.name)).toEqual(['teacher', 'user']);
      expect(await store.roles.ofUser(u.id)).toEqual(['teacher', 'user']);
      expect(await store.roles.ofGroup(g.id)).toEqual(['teacher']);
      expect(await store.roles.ofService(s.id)).toEqual(['user']);
      await expect(async () => await store.roles.setForUser(u.id, ['user', 'ghost'])).rejects.toThrow('no role named ghost');
      expect(await store.roles.ofUser(u.id)).toEqual(['teacher', 'user']);
      await store.roles.setForUser(u.id, []);
      await store.roles.addToUser(u.id, 'user');
      await store.roles.addToUser(u.id, 'user');
      expect(await store.roles.ofUser(u.id)).toEqual(['user']);
      await store.roles.delete('user');
      expect(await store.roles.ofUser(u.id)).toEqual([]);
    });

    it('services: upsert, look-ups, and removal with their tokens and roles', async () => {
      const a = await store.services.upsert('a', false);
      expect(await store.services.upsert('a', true)).toEqual({ ...a, admin: true });
      const b = await store.services.upsert('b', false);
      expect(await store.services.get('b')).toEqual(b);
      expect((await store.services.getById(a.id))?.name).toBe('a');
      await store.roles.upsert({ name: 'r', description: '', scopes: [] });
      await store.roles.setForService(b.id, ['r']);
      const t = await store.tokens.create({ service_id: b.id, kind: 'api', token: 'service-b-token-01' });
      await store.services.deleteExcept(['a']);
      expect((await store.services.list()).map((s) => s.name)).toEqual(['a']);
      expect(await store.tokens.get(t.id)).toBeUndefined();
      expect(await store.roles.ofService(b.id)).toEqual([]);
    });
  });

  describe('deleting a user', () => {
    it('takes servers, tokens, codes, group membership and roles with it', async () => {
      const u = await store.users.create('henry');
      const other = await store.users.create('iris');
      const g = await store.groups.create('g');
      await store.groups.addUsers(g.id, [u.id, other.id]);
      await store.roles.upsert({ name: 'user', description: '', scopes: ['self'] });
      await store.roles.addToUser(u.id, 'user');
      const s = await store.servers.ensure(u.id, '');
      await store.servers.update(s.id, { started: 1 });
      const t = await store.tokens.create({ user_id: u.id, kind: 'api', token: 'henry-token-00001' });
      await store.oauth.upsertClient({ identifier: 'c', description: '', redirect_uri: '/cb', allowed_scopes: [], secret: 'secret-secret' });
      await store.oauth.createCode('henry-code-000001', { client_id: 'c', user_id: u.id, scopes: [], session_id: null, redirect_uri: '/cb', expires_at: Date.now() + 60_000 });
      await store.users.delete(u.id);
      expect(await store.servers.listForUser(u.id)).toEqual([]);
      expect(await store.servers.countActive()).toBe(0);
      expect(await store.tokens.get(t.id)).toBeUndefined();
      expect(await store.oauth.consumeCode('henry-code-000001', 0)).toBeUndefined();
      expect(await store.groups.memberNames(g.id)).toEqual(['iris']);
      expect(await store.roles.ofUser(u.id)).toEqual([]);
      expect(await store.users.get('iris')).toBeDefined();
    });
  });

  describe('users.page', () => {
    it('filters by state, name substring and names, with offset, limit and total', async () => {
      const names = ['Alice', 'bob', 'carol', 'dan', 'erin', 'frank', '100%_real'];
      const ids: Record<string, number> = {};
      for (const n of names) ids[n] = (await store.users.create(n)).id;
      const start = async (name: string, url: string | null) => {
        const s = await store.servers.ensure(ids[name]!, '');
        await store.servers.update(s.id, { started: 1, url });
      };
      await start('bob', 'http://127.0.0.1:1');
      await start('dan', null); // spawning: active but not ready
      await start('frank', 'http://127.0.0.1:2');
      await store.servers.ensure(ids.carol!, ''); // stopped server
      const page = async (q: Parameters<typeof store.users.page>[0]) => {
        const r = await store.users.page(q);
        return { names: r.items.map((u) => u.name), total: r.total };
      };
      expect(await page({ offset: 0, limit: 3 })).toEqual({ names: ['Alice', 'bob', 'carol'], total: 7 });
      expect(await page({ offset: 6, limit: 3 })).toEqual({ names: ['100%_real'], total: 7 });
      expect(await page({ offset: 0, limit: 10, state: 'active' })).toEqual({ names: ['bob', 'dan', 'frank'], total: 3 });
      expect(await page({ offset: 1, limit: 1, state: 'active' })).toEqual({ names: ['dan'], total: 3 });
      expect(await page({ offset: 0, limit: 10, state: 'ready' })).toEqual({ names: ['bob', 'frank'], total: 2 });
      expect(await page({ offset: 0, limit: 2, state: 'inactive' })).toEqual({ names: ['Alice', 'carol'], total: 4 });
      expect(await page({ offset: 0, limit: 10, nameFilter: 'AL' })).toEqual({ names: ['Alice', '100%_real'], total: 2 });
      expect(await page({ offset: 0, limit: 10, nameFilter: '%_' })).toEqual({ names: ['100%_real'], total: 1 });
      expect(await page({ offset: 0, limit: 10, nameFilter: 'r', state: 'inactive' })).toEqual({ names: ['carol', 'erin', '100%_real'], total: 3 });
      expect(await page({ offset: 0, limit: 10, names: ['frank', 'bob', 'zed'] })).toEqual({ names: ['bob', 'frank'], total: 2 });
      expect(await page({ offset: 0, limit: 10, names: ['frank', 'bob', 'carol'], state: 'ready' })).toEqual({ names: ['bob', 'frank'], total: 2 });
      expect(await page({ offset: 0, limit: 10, names: [] })).toEqual({ names: [], total: 0 });
      expect(await page({ offset: 0, limit: 0 })).toEqual({ names: [], total: 7 });
      await expect(async () => await store.users.page({ offset: -1, limit: 5 })).rejects.toThrow(/offset/);
      await expect(async () => await store.users.page({ offset: 0, limit: 5, state: 'running' as never })).rejects.toThrow('unknown user state running');
      await expect(async () => await store.users.page({ offset: 0, limit: 5, state: 'toString' as never })).rejects.toThrow('unknown user state toString');
    });
  });

  describe('activity', () => {
    it('counts distinct active users per window, also after they are deleted', async () => {
      const day = 86_400_000;
      const now = 100 * day + 3_600_000;
      for (const name of ['a', 'b', 'c']) await store.users.create(name);
      await store.activity.record('a', now - 1000);
      await store.activity.record('a', now - 2000); // same user, same day: one row
      await store.activity.record('b', now - 2 * day);
      await store.activity.record('c', now - 10 * day);
      await store.activity.record('c', now - 5 * 60_000);
      for (const name of ['a', 'b', 'c']) await store.users.delete((await store.users.get(name))!.id);
      expect(await store.users.count()).toBe(0);
      expect(await store.activity.countSince(now - 60_000)).toBe(1);
      expect(await store.activity.countSince(now - day)).toBe(2);
      expect(await store.activity.countSince(now - 7 * day)).toBe(3);
      expect(await store.activity.countSince(now + 1)).toBe(0);
      await store.activity.prune(now - 3 * day);
      expect(await store.activity.countSince(0)).toBe(3);
      await store.activity.prune(now - day);
      expect(await store.activity.countSince(0)).toBe(2);
    });
  });

  describe('transaction', () => {
    it('rolls back everything when the function throws, and commits otherwise', async () => {
      await expect(
        store.tx(async (s) => {
          await s.users.create('x');
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await store.users.get('x')).toBeUndefined();
      expect(await store.tx(async (s) => (await s.users.create('y')).name)).toBe('y');
      expect((await store.users.get('y'))?.name).toBe('y');
    });

    it('one transaction after another, each with its own writes, on the store each hands out', async () => {
      // the store bound to a transaction is kept and reused (sqlite: one; PostgreSQL: one per pooled connection)
      for (let i = 0; i < 12; i++) {
        await store.tx(async (s) => {
          const u = await s.users.create(`t${i}`);
          await s.servers.ensure(u.id, '');
        });
      }
      await expect(store.tx(async (s) => {
        await s.users.create('gone');
        throw new Error('undo');
      })).rejects.toThrow('undo');
      expect(await store.users.count()).toBe(12);
      expect(await store.users.get('gone')).toBeUndefined();
    });

    it("a repository's own transaction joins an enclosing one", async () => {
      const g = await store.groups.create('g');
      const u = await store.users.create('u');
      await expect(
        store.tx(async (s) => {
          await s.groups.addUsers(g.id, [u.id]);
          await s.roles.upsert({ name: 'r', description: '', scopes: [] });
          throw new Error('undo');
        }),
      ).rejects.toThrow('undo');
      expect(await store.groups.memberNames(g.id)).toEqual([]);
      expect(await store.roles.get('r')).toBeUndefined();
    });

    it('two transactions at once both commit, neither sees half of the other', async () => {
      const results = await Promise.all(['p', 'q'].map((name) =>
        store.tx(async (s) => {
          const u = await s.users.create(name);
          await s.servers.ensure(u.id, '');
          return (await s.servers.listForUser(u.id)).length;
        })));
      expect(results).toEqual([1, 1]);
      expect(await store.users.count()).toBe(2);
    });
  });
});

describe('PostgreSQL migrations', () => {
  it('are the sqlite files translated: same versions, no sqlite-only SQL left', () => {
    for (const m of listMigrations()) {
      const sql = postgresSql(readFileSync(m.file, 'utf8')).replace(/--.*$/gm, '');
      expect(sql).not.toMatch(/\bINTEGER\b|WITHOUT ROWID|randomblob|uri_component|AUTOINCREMENT/);
    }
  });

  it('two hubs opening one empty database at once migrate it once; a newer schema is refused', async () => {
    const url = await createDatabase('migrate');
    const [a, b] = await Promise.all([openStore(url), openStore(url)]);
    expect([a.version, b.version]).toEqual([latestVersion(), latestVersion()]);
    await a.users.create('same-salt');
    await a.activity.record('same-salt', Date.now());
    expect(await b.activity.countSince(0)).toBe(1);
    await b.close();
    const loc = parseDbUrl(url);
    if (loc.kind !== 'postgres') throw new Error('not postgres');
    const c = new pg.Client({ host: loc.host, user: loc.user, database: loc.database });
    await c.connect();
    await c.query('UPDATE nodehub_schema SET version = version + 5');
    await c.end();
    await expect(openStore(url)).rejects.toThrow(`database schema version ${latestVersion() + 5} is newer than this nodehub supports`);
    await expect(pendingMigrationsFor(url)).rejects.toThrow(/is newer/);
    await a.close();
  });

  it('a database it cannot reach is named without the password', async () => {
    const err = await openStore('postgresql://hub:s3cret@/nowhere?host=/nonexistent-dir').catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain('cannot open database postgresql://hub:***@/nowhere');
    expect((err as Error).message).not.toContain('s3cret');
  });
});
