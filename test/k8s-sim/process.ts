// A container as a real local process: argv from command/args (or the image's entrypoint/cmd), the environment a
// kubelet would give it (env, envFrom, fieldRef/resourceFieldRef, secret and configMap keys, $(VAR) expansion), its
// own process group so SIGTERM/SIGKILL reach every child, and a bounded log buffer.
import { fork, spawn, type ChildProcess } from 'node:child_process';
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
  /** undefined until the launcher has started it (and for ever if it could not be started) */
  readonly pid: number | undefined;
  exited: Promise<Exit>;
  /** with a separate launcher: settles once the process runs (null) or could not be started (its Exit) */
  spawned?: Promise<Exit | null>;
  /** signal the whole process group */
  signal(sig: NodeJS.Signals): void;
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGTERM: 15 };

function startFailure(argv: string[], err: { code?: string; message: string }): Exit {
  const what = err.code === 'ENOENT' ? `exec: "${argv[0]}": executable file not found in $PATH` : err.message;
  return { exitCode: 128, signal: null, error: `failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: ${what}: unknown` };
}

const exitOf = (code: number | null, signal: string | null): Exit => ({ exitCode: code ?? 128 + (SIGNALS[signal ?? ''] ?? 0), signal });

function signalGroup(pid: number | undefined, sig: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, sig);
  } catch {
    // the group is already gone
  }
}

export function startProcess(argv: string[], env: Record<string, string>, cwd: string, log: (chunk: Buffer) => void,
  launcher?: Launcher | null): ContainerProcess {
  const dir = fs.existsSync(cwd) ? cwd : '/';
  if (launcher) return launcher.start(argv, env, dir, log);
  const child = spawn(argv[0], argv.slice(1), { env, cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', log);
  child.stderr?.on('data', log);
  const exited = new Promise<Exit>((resolve) => {
    child.once('error', (err: NodeJS.ErrnoException) => resolve(startFailure(argv, err)));
    child.once('exit', (code, signal) => resolve(exitOf(code, signal)));
  });
  return { pid: child.pid, exited, signal: (sig) => signalGroup(child.pid, sig) };
}

type LauncherMessage = { id: number; pid?: number; error?: { code?: string; message: string }; log?: Uint8Array; exit?: { code: number | null; signal: string | null } };

/**
 * Starts container processes from a small helper process (launcher-child.ts) instead of the simulator's own: Node's
 * spawn() blocks its caller until the child has exec'd, which on a loaded machine took ~0.2 s per pod, so a burst of
 * 200 pods froze the API server for tens of seconds (a real API server never waits for a kubelet). Opt-in
 * (SimulatorOptions.separateLauncher), for benches with many pods.
 */
export class Launcher {
  readonly #child: ChildProcess;
  readonly #procs = new Map<number, { argv: string[]; log: (c: Buffer) => void; setPid: (pid: number) => void; fail: (e: Exit) => void; exit: (e: Exit) => void }>();
  #next = 1;

  constructor() {
    this.#child = fork(new URL('./launcher-child.ts', import.meta.url), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
    this.#child.on('message', (m: LauncherMessage) => {
      const p = this.#procs.get(m.id);
      if (!p) return;
      if (m.pid !== undefined) p.setPid(m.pid);
      if (m.log) p.log(Buffer.from(m.log));
      if (m.error) {
        this.#procs.delete(m.id);
        p.fail(startFailure(p.argv, m.error));
      }
      if (m.exit) {
        this.#procs.delete(m.id);
        p.exit(exitOf(m.exit.code, m.exit.signal));
      }
    });
  }

  start(argv: string[], env: Record<string, string>, cwd: string, log: (chunk: Buffer) => void): ContainerProcess {
    const id = this.#next++;
    let pid: number | undefined;
    let pendingSignal: NodeJS.Signals | null = null;
    let setSpawned!: (e: Exit | null) => void;
    let setExited!: (e: Exit) => void;
    const spawned = new Promise<Exit | null>((r) => (setSpawned = r));
    const exited = new Promise<Exit>((r) => (setExited = r));
    this.#procs.set(id, {
      argv, log,
      setPid: (p) => {
        pid = p;
        setSpawned(null);
        // a stop that came before the process ran reaches it now
        if (pendingSignal) signalGroup(pid, pendingSignal);
      },
      fail: (e) => {
        setSpawned(e);
        setExited(e);
      },
      exit: (e) => {
        setSpawned(null);
        setExited(e);
      },
    });
    this.#child.send({ id, argv, env, cwd });
    return {
      get pid() {
        return pid;
      },
      exited,
      spawned,
      signal(sig) {
        if (pid === undefined) pendingSignal = sig;
        else signalGroup(pid, sig);
      },
    };
  }

  close(): void {
    this.#child.disconnect();
  }
}
