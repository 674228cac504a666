// Where the one listener binds: JupyterHub.ip/port, or bind_url when set (the config loader already folded bind_url
// into ip, port and base_url). An empty ip means every interface, as in JupyterHub.
import type { HubConfig } from '../config/types.ts';

export function listenAddress(config: HubConfig): { host: string; port: number } {
  let host = config.hub.ip;
  let port = config.hub.port;
  if (config.hub.bind_url) {
    const u = new URL(config.hub.bind_url);
    host = u.hostname.replace(/^\[|\]$/g, '');
    if (u.port) port = Number(u.port);
  }
  return { host: host || '::', port };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
