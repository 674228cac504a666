// Readiness checks of a running container against its pod IP: httpGet (2xx/3xx), tcpSocket (connect), exec (exit 0).
// Without a readinessProbe a container is ready once started, unless the simulator was asked to probe the first
// declared port (readinessFromPorts), which suits servers that need a moment to bind.
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';

export type Probe = () => Promise<boolean>;

function resolvePort(container: any, port: unknown): number {
  if (typeof port === 'number') return port;
  const named = (container.ports ?? []).find((p: any) => p.name === port);
  return named ? named.containerPort : Number(port);
}

function tcp(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function httpGet(host: string, port: number, path: string, headers: Record<string, string>, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host, port, path, headers, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 400);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

function exec(argv: string[], env: Record<string, string>, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { env, stdio: 'ignore', timeout: timeoutMs });
    child.on('error', () => resolve(false));
    child.on('exit', (code) => resolve(code === 0));
  });
}

/** The probe for a container, or null when it is ready as soon as it runs. */
export function readinessProbe(container: any, podIP: string, env: Record<string, string>, fromPorts: boolean): Probe | null {
  const p = container.readinessProbe;
  const timeoutMs = Math.max(1, p?.timeoutSeconds ?? 1) * 1000;
  if (p?.httpGet) {
    const port = resolvePort(container, p.httpGet.port);
    const headers = Object.fromEntries((p.httpGet.httpHeaders ?? []).map((h: any) => [h.name, h.value]));
    return () => httpGet(p.httpGet.host || podIP, port, p.httpGet.path ?? '/', headers, timeoutMs);
  }
  if (p?.tcpSocket) {
    const port = resolvePort(container, p.tcpSocket.port);
    return () => tcp(p.tcpSocket.host || podIP, port, timeoutMs);
  }
  if (p?.exec?.command?.length) return () => exec(p.exec.command, env, timeoutMs);
  if (!p && fromPorts && container.ports?.length) {
    const port = container.ports[0].containerPort;
    return () => tcp(podIP, port, timeoutMs);
  }
  return null;
}
