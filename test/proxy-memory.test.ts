// What a proxied websocket keeps in memory while it is open. Thousands of idle kernel connections are the normal
// load of a hub, so each must hold only its two sockets and their relay, not the handshake that created them.
import { afterEach, describe, expect, it } from 'vitest';
import diagnostics from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import http from 'node:http';
import { once } from 'node:events';
import { setImmediate as tick } from 'node:timers/promises';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { WebSocket, WebSocketServer } from 'ws';
import { closeServer, listen, startProxy } from './proxy-support.ts';

v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!();
});

async function collect(): Promise<void> {
  // WeakRefs stay alive until the current job ends, so let a few turns pass between collections.
  for (let i = 0; i < 3; i++) {
    await tick();
    gc();
  }
}

describe('proxied websocket memory', () => {
  it('lets the upstream handshake request be collected once the websocket is open', async () => {
    const upstream = http.createServer();
    const wss = new WebSocketServer({ server: upstream });
    wss.on('connection', (ws) => ws.on('message', (m) => ws.send(m)));
    const upstreamPort = await listen(upstream);
    cleanup.push(async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      await closeServer(upstream);
    });
    const p = await startProxy();
    cleanup.push(() => p.close());
    p.table.add('/user/alice', `http://127.0.0.1:${upstreamPort}`);

    // The proxy's own request to the upstream is the one carrying X-Forwarded-For; the test client's does not.
    const proxyRequests: WeakRef<ClientRequest>[] = [];
    const onStart = (msg: unknown): void => {
      const req = (msg as { request: ClientRequest }).request;
      if (req.getHeader('x-forwarded-for') !== undefined) proxyRequests.push(new WeakRef(req));
    };
    diagnostics.subscribe('http.client.request.start', onStart);
    cleanup.push(() => void diagnostics.unsubscribe('http.client.request.start', onStart));

    const client = new WebSocket(`ws://127.0.0.1:${p.port}/user/alice/api/kernels/k/channels`);
    cleanup.push(() => client.terminate());
    await once(client, 'open');
    client.send('ping');
    expect(String((await once(client, 'message'))[0])).toBe('ping');

    expect(proxyRequests).toHaveLength(1);
    await collect();
    expect(proxyRequests[0]!.deref()).toBeUndefined();

    // And the websocket still works afterwards.
    client.send('pong');
    expect(String((await once(client, 'message'))[0])).toBe('pong');
  });
});
