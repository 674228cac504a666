// The route listing's JSON is cached per route; what a client parses must still be the table as it is now.
import { describe, expect, it } from 'vitest';
import { RouteTable } from '../src/proxy/route-table.ts';
import { routeJson, routesJson } from '../src/proxy/chp/route-json.ts';

describe('route listing JSON', () => {
  it('parses back to every route, with odd prefixes and data, and follows activity between listings', () => {
    const table = new RouteTable();
    const odd = table.add('/user/a"b:{c}\\d', 'http://127.0.0.1:1', { user: 'a"b', note: 'x:{y}' }, Date.UTC(2026, 0, 1));
    table.add('/plain', 'http://127.0.0.1:2', {}, Date.UTC(2026, 0, 2));
    const first = JSON.parse(routesJson(table.all()));
    expect(first).toEqual({
      [odd.prefix]: { target: 'http://127.0.0.1:1', user: 'a"b', note: 'x:{y}', last_activity: '2026-01-01T00:00:00.000Z' },
      '/plain': { target: 'http://127.0.0.1:2', last_activity: '2026-01-02T00:00:00.000Z' },
    });
    table.touch(odd, Date.UTC(2026, 5, 1));
    const second = JSON.parse(routesJson(table.all()));
    expect(second[odd.prefix].last_activity).toBe('2026-06-01T00:00:00.000Z');
    expect(JSON.parse(routeJson(odd))).toEqual(second[odd.prefix]);
    // Only routes idle since the cut-off, as CHP's ?inactive_since.
    expect(Object.keys(JSON.parse(routesJson(table.all(), Date.UTC(2026, 3, 1))))).toEqual(['/plain']);
  });

  it('shows a re-added prefix with its new target and data', () => {
    const table = new RouteTable();
    table.add('/r', 'http://127.0.0.1:1', { v: 1 }, 0);
    expect(JSON.parse(routesJson(table.all()))['/r']).toMatchObject({ target: 'http://127.0.0.1:1', v: 1 });
    table.add('/r', 'http://127.0.0.1:2', { v: 2 }, 0);
    expect(JSON.parse(routesJson(table.all()))['/r']).toMatchObject({ target: 'http://127.0.0.1:2', v: 2 });
  });
});
