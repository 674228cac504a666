// One container of a pod on the simulated kubelet: image pull (cache, pull policy, failures with ErrImagePull and
// ImagePullBackOff), config errors, the real process, readiness, and restarts (CrashLoopBackOff) per restartPolicy.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { nowIso } from './api.ts';
import type { EventInput } from './events.ts';
import { sleep, type KubeletContext } from './kubelet-context.ts';
import { readinessProbe } from './probes.ts';
import { ConfigError, containerArgv, containerEnv, startProcess, type ContainerProcess, type Exit } from './process.ts';
import type { KObject } from './types.ts';

const REFERENCE = /^(?:[a-zA-Z0-9.-]+(?::\d+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::\w[\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;
const LOG_LIMIT = 256 * 1024;
/** The kubelet keeps the last 4 KiB of a termination message file (MaxContainerTerminationMessageLength), and with
 *  FallbackToLogsOnError the last 80 lines, at most 2 KiB, of the log of a failed container. */
const MESSAGE_LIMIT = 4096;
const FALLBACK_LINES = 80;
const FALLBACK_BYTES = 2048;

/** What a container needs from its pod worker. */
export interface ContainerHost {
  ctx: KubeletContext;
  node: string;
  signal: AbortSignal;
  /** latest stored pod (for env fieldRefs and event involvedObject) */
  pod(): KObject;
  podDir: string;
  sync(): void;
  event(input: Omit<EventInput, 'style' | 'host'>): void;
}

export class ContainerRun {
  readonly spec: any;
  readonly init: boolean;
  state: any;
  lastState: any = {};
  restartCount = 0;
  ready = false;
  started = false;
  imageID = '';
  containerID = '';
  everRan = false;
  /** terminated for good (no restart will follow) */
  done = false;
  lastExit: Exit | null = null;
  proc: ContainerProcess | null = null;
  /** exit code a crash fault forces on the next exit */
  forcedExit: { exitCode: number; reason: string } | null = null;
  private logs: Buffer[] = [];
  private logBytes = 0;

  constructor(spec: any, init: boolean, afterInit: boolean) {
    this.spec = spec;
    this.init = init;
    this.state = { waiting: { reason: afterInit ? 'PodInitializing' : 'ContainerCreating' } };
  }

  get name(): string {
    return this.spec.name;
  }

  get fieldPath(): string {
    return `spec.${this.init ? 'initContainers' : 'containers'}{${this.name}}`;
  }

  status(): Record<string, unknown> {
    const s: Record<string, unknown> = {
      name: this.name,
      image: this.spec.image,
      imageID: this.imageID,
      ready: this.ready,
      started: this.started,
      restartCount: this.restartCount,
      state: this.state,
      lastState: this.lastState,
    };
    if (this.containerID) s.containerID = this.containerID;
    return s;
  }

  logText(): string {
    return Buffer.concat(this.logs).toString('utf8');
  }

  private log(chunk: Buffer): void {
    this.logs.push(chunk);
    this.logBytes += chunk.length;
    while (this.logBytes > LOG_LIMIT && this.logs.length > 1) this.logBytes -= (this.logs.shift() as Buffer).length;
  }

  private waiting(host: ContainerHost, reason: string, message?: string): void {
    this.state = { waiting: message ? { reason, message } : { reason } };
    host.sync();
  }

  private event(host: ContainerHost, type: 'Normal' | 'Warning', reason: string, message: string): void {
    host.event({ type, reason, message, fieldPath: this.fieldPath });
  }

  /** Makes the image present on the node; false if the pod stopped meanwhile (failures retry with back-off). */
  private async pull(host: ContainerHost): Promise<boolean> {
    const { ctx } = host;
    const image: string = this.spec.image;
    if (!REFERENCE.test(image)) {
      const why = `Failed to apply default image tag "${image}": couldn't parse image name "${image}": invalid reference format`;
      this.event(host, 'Warning', 'InspectFailed', why);
      this.waiting(host, 'InvalidImageName', why);
      await sleep(2 ** 31 - 1, host.signal);
      return false;
    }
    const cached = ctx.nodes.hasImage(host.node, image);
    const policy = this.spec.imagePullPolicy ?? 'IfNotPresent';
    if (policy === 'Never' && !cached) {
      const why = `Container image "${image}" is not present with pull policy of Never`;
      this.event(host, 'Warning', 'ErrImageNeverPull', why);
      this.waiting(host, 'ErrImageNeverPull', why);
      await sleep(2 ** 31 - 1, host.signal);
      return false;
    }
    this.imageID = `${image.split('@')[0]}@sha256:${createHash('sha256').update(image).digest('hex')}`;
    if (cached && policy !== 'Always') {
      this.event(host, 'Normal', 'Pulled', `Container image "${image}" already present on machine`);
      return true;
    }
    const config = ctx.images.get(image) ?? {};
    let backoff = ctx.timing.imagePullBackoffMs;
    for (;;) {
      this.event(host, 'Normal', 'Pulling', `Pulling image "${image}"`);
      const began = Date.now();
      if (!(await sleep(config.pullMs ?? ctx.timing.pullMs, host.signal))) return false;
      const error = ctx.faults.pullErrors.get(image) ?? config.pullError;
      if (!error) {
        ctx.nodes.addImage(host.node, image, config.sizeBytes ?? 1);
        const secs = ((Date.now() - began) / 1000).toFixed(3);
        this.event(host, 'Normal', 'Pulled', `Successfully pulled image "${image}" in ${secs}s (${secs}s including waiting). Image size: ${config.sizeBytes ?? 1} bytes.`);
        return true;
      }
      this.event(host, 'Warning', 'Failed', `Failed to pull image "${image}": ${error}`);
      this.event(host, 'Warning', 'Failed', 'Error: ErrImagePull');
      this.waiting(host, 'ErrImagePull', error);
      if (!(await sleep(Math.min(backoff, ctx.timing.maxBackoffMs) / 2, host.signal))) return false;
      this.event(host, 'Normal', 'BackOff', `Back-off pulling image "${image}"`);
      this.event(host, 'Warning', 'Failed', 'Error: ImagePullBackOff');
      this.waiting(host, 'ImagePullBackOff', `Back-off pulling image "${image}"`);
      if (!(await sleep(Math.min(backoff, ctx.timing.maxBackoffMs), host.signal))) return false;
      backoff *= 2;
    }
  }

  /** Runs the container until it is done for good; for an init container, resolves true on success. */
  async run(host: ContainerHost, restartPolicy: string): Promise<boolean> {
    const { ctx } = host;
    let crashes = 0;
    let backoff = ctx.timing.crashBackoffMs;
    for (;;) {
      if (!(await this.pull(host))) return false;
      const pod = host.pod();
      const { host: apiHost, port } = ctx.apiHost();
      const base: Record<string, string> = {
        PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
        HOME: host.podDir,
        HOSTNAME: pod.metadata.name as string,
        KUBERNETES_SERVICE_HOST: apiHost,
        KUBERNETES_SERVICE_PORT: String(port),
        KUBERNETES_PORT: `tcp://${apiHost}:${port}`,
        ...(process.env.LANG ? { LANG: process.env.LANG } : {}),
        ...(ctx.images.get(this.spec.image)?.env ?? {}),
      };
      let env: Record<string, string>;
      try {
        env = containerEnv(pod, this.spec, base, { get: (plural, ns, name) => ctx.store.get(plural, ns, name) }, ctx.nodes.get(host.node));
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        this.event(host, 'Warning', 'Failed', `Error: ${err.message}`);
        this.waiting(host, 'CreateContainerConfigError', err.message);
        if (!(await sleep(Math.min(backoff, ctx.timing.maxBackoffMs), host.signal))) return false;
        backoff *= 2;
        continue;
      }
      const crashCode = ctx.faults.crashImages.get(this.spec.image);
      const messageFile = this.messageFile(host);
      const argv = crashCode !== undefined ? ['/bin/sh', '-c', `exit ${crashCode}`]
        : containerArgv(this.spec, ctx.images.get(this.spec.image) ?? {}, env).map((a) => a.split(this.spec.terminationMessagePath ?? '\0').join(messageFile));
      if (host.signal.aborted) return false;
      if (crashes > 0) {
        this.restartCount++;
        this.lastState = { terminated: this.state.terminated };
      }
      this.containerID = `containerd://${randomBytes(32).toString('hex')}`;
      this.event(host, 'Normal', 'Created', `Created container ${this.name}`);
      const cwd = this.spec.workingDir ?? host.podDir;
      const proc = startProcess(argv, env, cwd, (c) => this.log(c), ctx.launcher?.(host.node));
      this.proc = proc;
      const startedAt = nowIso();
      // The 'error' event of a failed spawn comes after this tick; give it one turn before reporting a start.
      const early = await (proc.spawned ?? Promise.race([proc.exited, new Promise<null>((r) => setImmediate(() => r(null)))]));
      if (early?.error) this.event(host, 'Warning', 'Failed', `Error: ${early.error}`);
      else {
        this.event(host, 'Normal', 'Started', `Started container ${this.name}`);
        this.everRan = true;
        this.started = true;
        this.state = { running: { startedAt } };
        const probe = readinessProbe(this.spec, pod.status?.podIP ?? '127.0.0.1', env, ctx.readinessFromPorts);
        this.ready = !probe && !this.init;
        host.sync();
        if (probe && !this.init) void this.probeLoop(host, probe, proc);
      }
      const exit = await proc.exited;
      proc.signal('SIGKILL'); // children left behind by the main process die with it, as in a container
      this.proc = null;
      this.lastExit = exit;
      const forced = this.forcedExit;
      this.forcedExit = null;
      const exitCode = forced?.exitCode ?? exit.exitCode;
      const reason = forced?.reason ?? (exit.error ? 'StartError' : exitCode === 0 ? 'Completed' : 'Error');
      const terminated: Record<string, unknown> = { exitCode, reason, startedAt, finishedAt: nowIso(), containerID: this.containerID };
      const message = exit.error ?? this.terminationMessage(messageFile, exitCode);
      if (message) terminated.message = message;
      if (exit.signal && !forced) terminated.signal = { SIGKILL: 9, SIGTERM: 15 }[exit.signal as string] ?? undefined;
      if (terminated.signal === undefined) delete terminated.signal;
      this.state = { terminated };
      this.ready = false;
      this.started = false;
      if (host.signal.aborted) return exitCode === 0;
      const restart = this.init
        ? exitCode !== 0 && restartPolicy !== 'Never'
        : restartPolicy === 'Always' || (restartPolicy === 'OnFailure' && exitCode !== 0);
      if (!restart) {
        this.done = true;
        host.sync();
        return exitCode === 0;
      }
      crashes++;
      // The first restart is immediate; later ones wait in CrashLoopBackOff with a doubling delay.
      if (crashes > 1) {
        const pod2 = host.pod();
        const who = `${pod2.metadata.name}_${pod2.metadata.namespace}(${pod2.metadata.uid})`;
        const delay = Math.min(backoff, ctx.timing.maxBackoffMs);
        this.event(host, 'Warning', 'BackOff', `Back-off restarting failed container ${this.name} in pod ${who}`);
        this.waiting(host, 'CrashLoopBackOff', `back-off ${Math.max(1, Math.round(delay / 1000))}s restarting failed container=${this.name} pod=${who}`);
        if (!(await sleep(delay, host.signal))) return false;
        backoff *= 2;
      } else host.sync();
    }
  }

  /**
   * The host file that stands for the container's terminationMessagePath: the process shares the host's filesystem,
   * so the path in its command and args is replaced by this file (README, known differences). Emptied at each start,
   * as the kubelet gives each container instance a fresh one.
   */
  private messageFile(host: ContainerHost): string {
    const file = path.join(host.podDir, `termination-${this.init ? 'init-' : ''}${this.name}`);
    fs.writeFileSync(file, '', { mode: 0o666 });
    return file;
  }

  /** What the kubelet puts into state.terminated.message: the file's last 4 KiB, else (FallbackToLogsOnError, failed
   *  container) the log's tail; empty means no message field. */
  private terminationMessage(file: string, exitCode: number): string {
    let data = Buffer.alloc(0);
    try {
      data = fs.readFileSync(file);
    } catch {
      // no file: no message
    }
    if (data.length > MESSAGE_LIMIT) data = data.subarray(data.length - MESSAGE_LIMIT);
    if (data.length === 0 && this.spec.terminationMessagePolicy === 'FallbackToLogsOnError' && exitCode !== 0) {
      const lines = this.logText().split('\n');
      const tail = Buffer.from(lines.slice(-FALLBACK_LINES - (lines.at(-1) === '' ? 1 : 0)).join('\n'));
      data = tail.subarray(Math.max(0, tail.length - FALLBACK_BYTES));
    }
    return data.toString('utf8');
  }

  private async probeLoop(host: ContainerHost, probe: () => Promise<boolean>, proc: ContainerProcess): Promise<void> {
    while (this.proc === proc && !host.signal.aborted) {
      const ok = await probe();
      if (this.proc !== proc || host.signal.aborted) return;
      if (ok !== this.ready) {
        this.ready = ok;
        host.sync();
      }
      if (!(await sleep(host.ctx.timing.probeMs, host.signal))) return;
    }
  }
}
