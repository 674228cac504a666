// The progress event stream (spec 2.2.1): `data: <json>\n\n` per event, a bare `\n\n` keep-alive every 8 s, closed after
// the ready or failed event. A late subscriber first gets the events so far, so the bar starts where the spawn is.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Hub } from './context.ts';
import type { ActiveServer, HubEvent } from '../servers/index.ts';
import { JUPYTERHUB_VERSION } from '../util/version.ts';

const KEEPALIVE_MS = 8000;

export function streamProgress(hub: Hub, req: FastifyRequest, reply: FastifyReply, active: ActiveServer | undefined, failure: string | undefined): void {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'Content-Type': 'text/event-stream',
    'Cache-Control': 'no-cache',
    'X-Accel-Buffering': 'no',
    'X-JupyterHub-Version': JUPYTERHUB_VERSION,
  });
  const send = (ev: HubEvent) => res.write(`data: ${JSON.stringify(ev)}\n\n`);
  if (!active) {
    send({ progress: 100, failed: true, message: `Spawn failed: ${failure ?? 'unknown reason'}` });
    res.end();
    return;
  }
  if (active.phase === 'ready') {
    send(active.events.findLast((e) => e.ready) ?? { progress: 100, ready: true, message: `Server ready at ${active.prefix}`, url: active.prefix });
    res.end();
    return;
  }
  let closed = false;
  const finish = () => {
    if (closed) return;
    closed = true;
    clearInterval(keepalive);
    active.emitter.off('event', onEvent);
    res.end();
  };
  const onEvent = (ev: HubEvent) => {
    send(ev);
    if (ev.ready || ev.failed) finish();
  };
  for (const ev of active.events) {
    send(ev);
    if (ev.ready || ev.failed) {
      closed = true;
      res.end();
      return;
    }
  }
  const keepalive = setInterval(() => res.write('\n\n'), KEEPALIVE_MS);
  active.emitter.on('event', onEvent);
  req.raw.on('close', finish);
  void hub;
}
