// Server ports come from below the kernel's ephemeral range: jupyter_client notes each kernel's ports by binding port 0
// and closing, and the kernel binds them a moment later; a server handed such a port by the same method first left that
// kernel unable to bind and its notebook waiting for ever (the storm's one real server per run whose kernel never
// answered). Ports are also held by the hub between the pick and the server's bind.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ephemeralRange, leaseServerPort, SERVER_PORT_FLOOR } from '../src/spawner/local/ports.ts';

describe('leaseServerPort', () => {
  it('hands out ports below the ephemeral range, each bindable and none twice while held', async () => {
    const range = ephemeralRange();
    const leases = await Promise.all(Array.from({ length: 300 }, () => leaseServerPort('127.0.0.1')));
    try {
      const ports = leases.map((l) => l.port);
      expect(new Set(ports).size).toBe(ports.length);
      for (const port of ports) {
        expect(port).toBeGreaterThanOrEqual(SERVER_PORT_FLOOR);
        expect(port).toBeLessThan(range.low);
      }
      // free to bind by the server it is for
      const s = net.createServer();
      await new Promise<void>((resolve, reject) => { s.once('error', reject); s.listen(ports[0], '127.0.0.1', resolve); });
      await new Promise<void>((r) => s.close(() => r()));
    } finally {
      for (const l of leases) l.release();
    }
  });

  it('never hands out a port a process listens on', async () => {
    // a range with exactly the minimum of candidates, most of them taken
    const taken: net.Server[] = [];
    const low = SERVER_PORT_FLOOR + 1000;
    for (let port = SERVER_PORT_FLOOR; port < low - 50; port++) {
      const s = net.createServer();
      const ok = await new Promise<boolean>((resolve) => { s.once('error', () => resolve(false)); s.listen(port, '127.0.0.1', () => resolve(true)); });
      if (ok) taken.push(s);
    }
    const heldPorts = new Set(taken.map((s) => (s.address() as net.AddressInfo).port));
    try {
      for (let i = 0; i < 20; i++) {
        const lease = await leaseServerPort('127.0.0.1', { low, high: 60999 });
        expect(heldPorts.has(lease.port)).toBe(false);
        lease.release();
      }
    } finally {
      await Promise.all(taken.map((s) => new Promise((r) => s.close(r))));
    }
  });

  it('falls back to a port of the kernel\'s choice when the space below the range is too small', async () => {
    const lease = await leaseServerPort('127.0.0.1', { low: SERVER_PORT_FLOOR + 10, high: 65000 });
    lease.release();
    expect(lease.port).toBeGreaterThanOrEqual(ephemeralRange().low);
  });

  it('reads the range from the file, and Linux\'s default when it cannot', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodehub-ports-'));
    fs.writeFileSync(path.join(dir, 'range'), '40000\t50000\n');
    expect(ephemeralRange(path.join(dir, 'range'))).toEqual({ low: 40000, high: 50000 });
    expect(ephemeralRange(path.join(dir, 'missing'))).toEqual({ low: 32768, high: 60999 });
    fs.rmSync(dir, { recursive: true });
  });
});
