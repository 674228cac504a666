// A container as a real local process: argv from command/args (or the image's entrypoint/cmd), the environment a
// kubelet would give it (env, envFrom, fieldRef/resourceFieldRef, secret and configMap keys, $(VAR) expansion), its
// own process group so SIGTERM/SIGKILL reach every child, and a bounded log buffer.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { parseQuantity } from './quantity.ts';
import type { ImageConfig, KObject } from './types.ts';

export class ConfigError extends Error {}

export interface Lookup {
  get(plural: 'secrets' | 'configmaps', ns: string, name: string): KObject | undefined;
}

/** Replaces $(NAME) with defined variables; $$(NAME) stays literally $(NAME); unknown references are left alone. */
export function expand(text: string, vars: Record<string, string>): string {
  return text.replace(/\$\$|\$\(([-._a-zA-Z][-._a-zA-Z0-9]*)\)/g, (m, name) => {
    if (m === '$$') return '$';
    return name in vars ? vars[name] : m;
  });
}

function keyOf(obj: KObject | undefined, kind: 'secret' | 'configmap', key: string): string | undefined {
  if (!obj) return undefined;
  if (kind === 'configmap') return (obj.data as any)?.[key];
  const b64 = (obj.data as any)?.[key];
  if (b64 !== undefined) return Buffer.from(String(b64), 'base64').toString('utf8');
  return (obj.stringData as any)?.[key];
}

function fieldRef(pod: KObject, path: string): string {
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (m) return (pod.metadata as any)[m[1]]?.[m[2]] ?? '';
  const s = pod.status ?? {};
  const table: Record<string, unknown> = {
    'metadata.name': pod.metadata.name,
    'metadata.namespace': pod.metadata.namespace,
    'metadata.uid': pod.metadata.uid,
    'spec.nodeName': pod.spec?.nodeName,
    'spec.serviceAccountName': pod.spec?.serviceAccountName,
    'status.hostIP': s.hostIP,
    'status.hostIPs': (s.hostIPs ?? []).map((i: any) => i.ip).join(','),
    'status.podIP': s.podIP,
    'status.podIPs': (s.podIPs ?? []).map((i: any) => i.ip).join(','),
  };
  if (!(path in table)) throw new ConfigError(`unsupported fieldRef fieldPath ${path}`);
  return String(table[path] ?? '');
}

function resourceRef(container: any, ref: any, node: KObject | undefined): string {
  const [kind, name] = String(ref.resource).split('.');
  const fromContainer = container.resources?.[kind]?.[name];
  const value = parseQuantity(fromContainer ?? node?.status?.allocatable?.[name] ?? '0') ?? 0;
  const divisor = parseQuantity(ref.divisor ?? '1') || 1;
  return String(Math.ceil(value / divisor));
}

/** The container's environment; ConfigError (CreateContainerConfigError) for a missing secret/configMap key. */
export function containerEnv(pod: KObject, container: any, base: Record<string, string>, lookup: Lookup, node?: KObject): Record<string, string> {
  const ns = pod.metadata.namespace as string;
  const env: Record<string, string> = { ...base };
  for (const from of container.envFrom ?? []) {
    const kind = from.secretRef ? 'secret' : 'configmap';
    const ref = from.secretRef ?? from.configMapRef;
    const obj = lookup.get(kind === 'secret' ? 'secrets' : 'configmaps', ns, ref?.name);
    if (!obj) {
      if (ref?.optional) continue;
      throw new ConfigError(`${kind === 'secret' ? 'secret' : 'configmap'} "${ref?.name}" not found`);
    }
    const keys = Object.keys({ ...((obj.data as object) ?? {}), ...((obj.stringData as object) ?? {}) });
    for (const k of keys) env[`${from.prefix ?? ''}${k}`] = keyOf(obj, kind, k) ?? '';
  }
  for (const e of container.env ?? []) {
    const vf = e.valueFrom;
    if (!vf) {
      env[e.name] = expand(String(e.value ?? ''), env);
    } else if (vf.fieldRef) {
      env[e.name] = fieldRef(pod, vf.fieldRef.fieldPath);
    } else if (vf.resourceFieldRef) {
      env[e.name] = resourceRef(container, vf.resourceFieldRef, node);
    } else if (vf.secretKeyRef || vf.configMapKeyRef) {
      const kind = vf.secretKeyRef ? 'secret' : 'configmap';
      const ref = vf.secretKeyRef ?? vf.configMapKeyRef;
      const obj = lookup.get(kind === 'secret' ? 'secrets' : 'configmaps', ns, ref.name);
      const value = keyOf(obj, kind, ref.key);
      if (value === undefined) {
        if (ref.optional) continue;
        throw new ConfigError(obj ? `couldn't find key ${ref.key} in ${kind === 'secret' ? 'Secret' : 'ConfigMap'} ${ns}/${ref.name}` : `${kind} "${ref.name}" not found`);
      }
      env[e.name] = value;
    }
  }
  return env;
}

/** Docker's rules: command replaces ENTRYPOINT (and drops CMD), args replace CMD. */
export function containerArgv(container: any, image: ImageConfig, env: Record<string, string>): string[] {
  const entry: string[] = container.command ?? image.entrypoint ?? [];
  const args: string[] = container.args ?? (container.command ? [] : (image.cmd ?? []));
  const argv = [...entry, ...args].map((a) => expand(String(a), env));
  // An image the test did not describe behaves like a pause container: it runs until stopped.
  return argv.length ? argv : [process.execPath, '-e', 'setInterval(() => {}, 1 << 30)'];
}

export interface Exit {
  exitCode: number;
  signal: string | null;
  /** set when the process could not be started at all */
  error?: string;
}

export interface ContainerProcess {
  pid: number | undefined;
  exited: Promise<Exit>;
  /** signal the whole process group */
  signal(sig: NodeJS.Signals): void;
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGTERM: 15 };

export function startProcess(argv: string[], env: Record<string, string>, cwd: string, log: (chunk: Buffer) => void): ContainerProcess {
  const dir = fs.existsSync(cwd) ? cwd : '/';
  const child = spawn(argv[0], argv.slice(1), { env, cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', log);
  child.stderr?.on('data', log);
  const exited = new Promise<Exit>((resolve) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      const what = err.code === 'ENOENT' ? `exec: "${argv[0]}": executable file not found in $PATH` : err.message;
      resolve({ exitCode: 128, signal: null, error: `failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: ${what}: unknown` });
    });
    child.once('exit', (code, signal) => {
      resolve({ exitCode: code ?? 128 + (SIGNALS[signal ?? ''] ?? 0), signal });
    });
  });
  return {
    pid: child.pid,
    exited,
    signal(sig) {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        // the group is already gone
      }
    },
  };
}
