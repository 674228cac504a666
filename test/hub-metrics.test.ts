import { describe, expect, it } from 'vitest';
import { createMetrics } from '../src/hub/metrics.ts';

/** The `# TYPE` line of each family in Prometheus text, name → type. */
function families(body: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of body.matchAll(/^# TYPE (\S+) (\S+)$/gm)) out.set(m[1], m[2]);
  return out;
}

function sample(body: string, series: string): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('hub metrics', () => {
  it('exposes the JupyterHub 3.0 families with their types', async () => {
    const { body, contentType } = await createMetrics().render();
    expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    const types = families(body);
    const expected: Record<string, string> = {
      jupyterhub_request_duration_seconds: 'histogram',
      jupyterhub_server_spawn_duration_seconds: 'histogram',
      jupyterhub_running_servers: 'gauge',
      jupyterhub_total_users: 'gauge',
      jupyterhub_check_routes_duration_seconds: 'histogram',
      jupyterhub_hub_startup_duration_seconds: 'histogram',
      jupyterhub_init_spawners_duration_seconds: 'histogram',
      jupyterhub_proxy_poll_duration_seconds: 'histogram',
      jupyterhub_proxy_add_duration_seconds: 'histogram',
      jupyterhub_server_poll_duration_seconds: 'histogram',
      jupyterhub_server_stop_seconds: 'histogram',
      jupyterhub_proxy_delete_duration_seconds: 'histogram',
      jupyterhub_active_users: 'gauge',
    };
    for (const [name, type] of Object.entries(expected)) expect(types.get(name), name).toBe(type);
    // Process metrics come along.
    expect(types.has('process_cpu_user_seconds_total')).toBe(true);
    expect(types.has('process_start_time_seconds')).toBe(true);
  });

  it('pre-creates every status child with zero counts and uses the spawn buckets', async () => {
    const { body } = await createMetrics().render();
    for (const status of ['success', 'failure', 'already-pending', 'throttled', 'too-many-users']) {
      expect(sample(body, `jupyterhub_server_spawn_duration_seconds_count{status="${status}"}`), status).toBe(0);
    }
    for (const status of ['success', 'failure']) {
      expect(sample(body, `jupyterhub_server_stop_seconds_count{status="${status}"}`)).toBe(0);
      expect(sample(body, `jupyterhub_proxy_add_duration_seconds_count{status="${status}"}`)).toBe(0);
      expect(sample(body, `jupyterhub_proxy_delete_duration_seconds_count{status="${status}"}`)).toBe(0);
    }
    for (const status of ['running', 'stopped']) {
      expect(sample(body, `jupyterhub_server_poll_duration_seconds_count{status="${status}"}`)).toBe(0);
    }
    const spawnBuckets = [...body.matchAll(/^jupyterhub_server_spawn_duration_seconds_bucket\{le="([^"]+)",status="success"\}/gm)].map((m) => m[1]);
    expect(spawnBuckets).toEqual(['0.5', '1', '2.5', '5', '10', '15', '30', '60', '120', '+Inf']);
    const stopBuckets = [...body.matchAll(/^jupyterhub_server_stop_seconds_bucket\{le="([^"]+)",status="success"\}/gm)].map((m) => m[1]);
    expect(stopBuckets).toEqual(['0.005', '0.01', '0.025', '0.05', '0.075', '0.1', '0.25', '0.5', '0.75', '1', '2.5', '5', '7.5', '10', '+Inf']);
  });

  it('records lifecycle, request and timing observations', async () => {
    const m = createMetrics();
    m.spawnFinished('success', 3);
    m.spawnFinished('failure', 200);
    m.stopFinished('success', 0.2);
    m.observeRequest('GET', 'jupyterhub.apihandlers.users.UserListAPIHandler', 200, 0.01);
    m.observeTiming('check_routes', 0.001);
    m.observeTiming('proxy_add', 0.002, 'failure');
    const { body } = await m.render();
    expect(sample(body, 'jupyterhub_server_spawn_duration_seconds_count{status="success"}')).toBe(1);
    expect(sample(body, 'jupyterhub_server_spawn_duration_seconds_bucket{le="5",status="success"}')).toBe(1);
    expect(sample(body, 'jupyterhub_server_spawn_duration_seconds_bucket{le="2.5",status="success"}')).toBe(0);
    expect(sample(body, 'jupyterhub_server_spawn_duration_seconds_bucket{le="120",status="failure"}')).toBe(0);
    expect(sample(body, 'jupyterhub_server_spawn_duration_seconds_bucket{le="+Inf",status="failure"}')).toBe(1);
    expect(sample(body, 'jupyterhub_server_stop_seconds_count{status="success"}')).toBe(1);
    expect(
      sample(body, 'jupyterhub_request_duration_seconds_count{method="GET",handler="jupyterhub.apihandlers.users.UserListAPIHandler",code="200"}'),
    ).toBe(1);
    expect(sample(body, 'jupyterhub_check_routes_duration_seconds_count')).toBe(1);
    expect(sample(body, 'jupyterhub_proxy_add_duration_seconds_count{status="failure"}')).toBe(1);
  });

  it('rejects a status a family does not have', () => {
    const m = createMetrics();
    expect(() => m.observeTiming('proxy_add', 1)).toThrow(/status must be one of success, failure/);
    expect(() => m.observeTiming('proxy_add', 1, 'running')).toThrow(/status must be one of/);
    expect(() => m.observeTiming('hub_startup', 1, 'success')).toThrow(/no status label/);
  });

  it('reads counts from the sources at scrape time', async () => {
    const m = createMetrics();
    let running = 2;
    const periods: number[] = [];
    m.setSources({
      totalUsers: () => 7,
      runningServers: () => running,
      activeUsers: (ms) => {
        periods.push(ms);
        return ms / 3600_000; // hours in the window, so each period gets a distinct value
      },
    });
    let { body } = await m.render();
    expect(sample(body, 'jupyterhub_total_users')).toBe(7);
    expect(sample(body, 'jupyterhub_running_servers')).toBe(2);
    expect(sample(body, 'jupyterhub_active_users{period="24h"}')).toBe(24);
    expect(sample(body, 'jupyterhub_active_users{period="7d"}')).toBe(168);
    expect(sample(body, 'jupyterhub_active_users{period="30d"}')).toBe(720);
    running = 5;
    ({ body } = await m.render());
    expect(sample(body, 'jupyterhub_running_servers')).toBe(5);
    expect(periods.length).toBe(6);
  });

  it('keeps hubs in one process apart and survives a failing source', async () => {
    const a = createMetrics();
    const b = createMetrics();
    a.spawnFinished('success', 1);
    b.setSources({ totalUsers: () => { throw new Error('db closed'); }, runningServers: () => 1, activeUsers: () => 0 });
    const [ra, rb] = await Promise.all([a.render(), b.render()]);
    expect(sample(ra.body, 'jupyterhub_server_spawn_duration_seconds_count{status="success"}')).toBe(1);
    expect(sample(rb.body, 'jupyterhub_server_spawn_duration_seconds_count{status="success"}')).toBe(0);
    expect(sample(rb.body, 'jupyterhub_total_users')).toBe(0);
    expect(sample(rb.body, 'jupyterhub_running_servers')).toBe(1);
    expect(sample(ra.body, 'jupyterhub_total_users')).toBe(0);
  });
});
