// The proxy's public types. The route table is plain data: the hub changes it with function calls, the forwarder
// only reads it, and activity is counted in memory on the route itself (written to the database in batches by the hub).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

export interface Route {
  /** Normalised: leading slash, no trailing slash except for '/'. With host routing the first segment is the host. */
  prefix: string;
  /** http://ip:port (or https://…) */
  target: string;
  /** Free-form data kept with the route, e.g. {user, server_name} or {hub: true}, as configurable-http-proxy keeps it. */
  data: Record<string, unknown>;
  /** Epoch ms of the last request or websocket message through this route. */
  lastActivity: number;
}

/** A target served inside this process (the hub itself) rather than over a socket. */
export interface LocalTarget {
  request(req: IncomingMessage, res: ServerResponse): void;
  upgrade?(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}

export interface ForwarderOptions {
  /** Add X-Forwarded-For/-Proto/-Host/-Port as configurable-http-proxy does (default true). */
  xForward?: boolean;
  /** ms of client inactivity before the client socket is closed (configurable-http-proxy --timeout); 0 = none. */
  timeout?: number;
  /** ms to wait for the upstream (--proxy-timeout); 0 = none. */
  proxyTimeout?: number;
  /** Keep-alive for upstream connections in ms (--keep-alive-timeout). */
  keepAliveTimeout?: number;
  /** Route by Host header first (--host-routing). */
  hostRouting?: boolean;
  /** Targets answered in-process, keyed by target URL (the hub's own URL). */
  localTargets?: Map<string, LocalTarget>;
  /**
   * Renders an error for the client (503 upstream down, 404 no route, 500). Defaults to plain status text. The hub
   * renders its own error page here; the standalone proxy may fetch --error-target.
   */
  onError?: (status: number, req: IncomingMessage, res: ServerResponse, route: Route | undefined) => void;
  /**
   * Whether client connections are TLS (for X-Forwarded-Proto/-Port: https/wss, 443); default: inferred per request
   * from the socket.
   */
  secure?: boolean;
  /** Extra request headers sent to every remote target (--custom-header). */
  customHeaders?: Record<string, string>;
  /** Forward the route prefix as part of the path (default true; --no-include-prefix sets false). */
  includePrefix?: boolean;
  /** Prepend the target URL's own path, if any, to the forwarded path (default true; --no-prepend-path). */
  prependPath?: boolean;
}

/** What createForwarder returns: attach request() to the server's 'request' event and upgrade() to 'upgrade'. */
export interface Forwarder {
  request(req: IncomingMessage, res: ServerResponse): void;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Aborts in-flight upstream requests, closes proxied websockets and idle keep-alive connections. */
  close(): Promise<void>;
}
