import { describe, expect, it } from 'vitest';
import { RouteTable, normalisePrefix } from '../src/proxy/index.ts';

const T = 'http://127.0.0.1:9000';

describe('normalisePrefix', () => {
  it('decodes once, adds a leading slash and drops the trailing one', () => {
    expect(normalisePrefix('')).toBe('/');
    expect(normalisePrefix('/')).toBe('/');
    expect(normalisePrefix('user/alice/')).toBe('/user/alice');
    expect(normalisePrefix('/user/a%20b/')).toBe('/user/a b');
    expect(normalisePrefix('/user/a%2520b')).toBe('/user/a%20b');
    expect(normalisePrefix('//user//alice//')).toBe('/user/alice');
  });

  it('rejects malformed escapes and dot segments with a clear error', () => {
    expect(() => normalisePrefix('/user/%E0%A4%A')).toThrow(/malformed percent-encoding/);
    expect(() => normalisePrefix('/user/../alice')).toThrow(/'\.\.' segment/);
    expect(() => normalisePrefix('/user/%2e/alice')).toThrow(/'\.' segment/);
  });
});

describe('RouteTable', () => {
  it('stores normalised keys with data and sets lastActivity on add', () => {
    const table = new RouteTable();
    const before = Date.now();
    const route = table.add('/user/alice/', T, { user: 'alice', server_name: '' });
    expect(route.prefix).toBe('/user/alice');
    expect(route.data).toEqual({ user: 'alice', server_name: '' });
    expect(route.lastActivity).toBeGreaterThanOrEqual(before);
    expect(table.get('/user/alice')).toBe(route);
    expect(table.get('user/alice/')).toBe(route);
    expect(table.size).toBe(1);
  });

  it('replaces a route added again at the same prefix', () => {
    const table = new RouteTable();
    table.add('/user/alice', T);
    table.add('/user/alice/', 'http://127.0.0.1:9001', { v: 2 });
    expect(table.size).toBe(1);
    expect(table.match('/user/alice/lab')?.target).toBe('http://127.0.0.1:9001');
  });

  it('rejects targets that are not http(s) URLs', () => {
    const table = new RouteTable();
    expect(() => table.add('/x', 'not a url')).toThrow(/not a URL/);
    expect(() => table.add('/x', 'ftp://h/')).toThrow(/protocol/);
    expect(() => table.add('/x', '')).toThrow(/non-empty/);
    expect(table.size).toBe(0);
  });

  it('matches whole segments only and prefers the longest prefix', () => {
    const table = new RouteTable();
    table.add('/', 'http://127.0.0.1:1', { hub: true });
    table.add('/user/al', 'http://127.0.0.1:2');
    table.add('/user/alice', 'http://127.0.0.1:3');
    table.add('/user/alice/named', 'http://127.0.0.1:4');
    expect(table.match('/user/alice/x')?.prefix).toBe('/user/alice');
    expect(table.match('/user/alice')?.prefix).toBe('/user/alice');
    expect(table.match('/user/alice/')?.prefix).toBe('/user/alice');
    expect(table.match('/user/alice/named/lab')?.prefix).toBe('/user/alice/named');
    expect(table.match('/user/alicex/lab')?.prefix).toBe('/');
    expect(table.match('/user/al/x')?.prefix).toBe('/user/al');
    expect(table.match('/user')?.prefix).toBe('/');
    expect(table.match('/')?.prefix).toBe('/');
  });

  it('returns undefined when nothing matches and there is no root route', () => {
    const table = new RouteTable();
    table.add('/user/alice', T);
    expect(table.match('/user/al')).toBeUndefined();
    expect(table.match('/')).toBeUndefined();
    expect(table.matchSegments(['user', 'alice', 'tree'])?.prefix).toBe('/user/alice');
  });

  it('removes routes, reporting whether one existed, and falls back to shorter prefixes', () => {
    const table = new RouteTable();
    table.add('/', T);
    table.add('/user/alice', 'http://127.0.0.1:2');
    table.add('/user/alice/named', 'http://127.0.0.1:3');
    expect(table.remove('/user/alice/')).toBe(true);
    expect(table.remove('/user/alice')).toBe(false);
    expect(table.match('/user/alice/x')?.prefix).toBe('/');
    expect(table.match('/user/alice/named/x')?.prefix).toBe('/user/alice/named');
    expect(table.remove('/user/alice/named')).toBe(true);
    expect(table.all().map((r) => r.prefix)).toEqual(['/']);
    expect(table.remove('/')).toBe(true);
    expect(table.size).toBe(0);
    expect(table.match('/anything')).toBeUndefined();
  });

  it('touch never moves activity backwards', () => {
    const table = new RouteTable();
    const route = table.add('/x', T, {}, 1000);
    table.touch(route, 2000);
    expect(route.lastActivity).toBe(2000);
    table.touch(route, 1500);
    expect(route.lastActivity).toBe(2000);
  });

  it('handles 10,000 routes: add, match and remove give the right routes (timed in bench/timings.ts)', () => {
    const table = new RouteTable();
    const n = 10_000;
    table.add('/', T, { hub: true });
    for (let i = 0; i < n; i++) table.add(`/user/u${i}/`, `http://127.0.0.1:${10000 + (i % 50000)}`, { user: `u${i}` });
    for (let i = 0; i < n; i++) {
      const route = table.match(`/user/u${i}/api/kernels/abc`);
      if (route?.data.user !== `u${i}`) throw new Error(`wrong route for u${i}: ${route?.prefix}`);
    }
    for (let i = 0; i < n; i += 2) table.remove(`/user/u${i}`);
    expect(table.size).toBe(n / 2 + 1);
    expect(table.match('/user/u2/lab')?.prefix).toBe('/');
    expect(table.match('/user/u3/lab')?.prefix).toBe('/user/u3');
  });
});
