// JupyterHub.hub_ip / hub_port: a second listener that serves the hub alone, in plain HTTP, as JupyterHub's own port
// behind its proxy. Spawned servers call the hub API there: when the public port speaks https and asks for client
// certificates (seed 004's site CA), a server has neither the site CA's trust nor a certificate of its own, and on an
// HPC site it runs on a compute node that reaches the submit node over the private network (hub_ip). User servers are
// not reachable through it: only <base_url>hub/... is answered, so it opens nothing the public port's gate closes.
import net from 'node:net';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { http } from '../util/builtins.ts';
import { JUPYTERHUB_VERSION } from '../util/version.ts';

export interface HubListener {
  server: Server;
  /** The URL prefix of the hub API as servers reach it here, e.g. http://127.0.0.1:8081/hub/api */
  apiUrl: string;
  /** Stops accepting; open connections finish (a handover's drain). */
  stopAccepting(): void;
  close(): Promise<void>;
}

export async function openHubListener(opts: {
  host: string;
  port: number;
  hubPrefix: string;
  reusePort: boolean;
  /** Hands a request for the hub to it (waiting for start-up as the public listener does). */
  handle(req: IncomingMessage, res: ServerResponse): void;
}): Promise<HubListener> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path.startsWith(opts.hubPrefix) || `${path}/` === opts.hubPrefix) return opts.handle(req, res);
    res.writeHead(404, { 'Content-Type': 'application/json', 'X-JupyterHub-Version': JUPYTERHUB_VERSION });
    res.end(JSON.stringify({ status: 404, message: `This is the hub's own port: only ${opts.hubPrefix} is served here` }));
  });
  server.on('upgrade', (_req, socket) => socket.destroy());
  server.keepAliveTimeout = 65_000;
  const host = opts.host || '::';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: opts.port, reusePort: opts.reusePort || undefined }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const connectHost = host === '::' || host === '0.0.0.0' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  let stopped = false;
  return {
    server,
    apiUrl: `http://${connectHost}:${opts.port}${opts.hubPrefix}api`,
    stopAccepting() {
      if (stopped) return;
      stopped = true;
      net.Server.prototype.close.call(server);
    },
    async close() {
      server.closeAllConnections();
      if (!stopped) await new Promise<void>((r) => server.close(() => r()));
      stopped = true;
    },
  };
}
