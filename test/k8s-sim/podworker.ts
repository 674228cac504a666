// The kubelet's work for one pod on one node: volumes, sandbox (the pod's loopback IP), init containers in order,
// then the containers side by side; graceful termination (SIGTERM, grace period, SIGKILL) and eviction.
import fs from 'node:fs';
import path from 'node:path';
import { nowIso } from './api.ts';
import { ContainerRun, type ContainerHost } from './container.ts';
import type { EventInput } from './events.ts';
import { sleep, type KubeletContext } from './kubelet-context.ts';
import { applyStatus, type PodView } from './podstatus.ts';
import { resourceById } from './resources.ts';
import type { KObject } from './types.ts';

const PODS = resourceById('pods');

export class PodWorker implements ContainerHost, PodView {
  readonly ctx: KubeletContext;
  readonly node: string;
  readonly ns: string;
  readonly name: string;
  readonly uid: string;
  readonly podDir: string;
  readonly init: ContainerRun[];
  readonly main: ContainerRun[];
  readonly hostIP: string;
  readonly startTime = nowIso();
  private readonly controller = new AbortController();
  private readonly restartPolicy: string;
  private latest: KObject;
  private loops: Promise<unknown>[] = [];
  private killTimer: NodeJS.Timeout | null = null;
  private termination: Promise<void> | null = null;
  sandbox = false;
  ip: string | null = null;
  initDone: boolean;
  phaseOverride: 'Succeeded' | 'Failed' | null = null;
  reason?: string;
  message?: string;
  disruption?: { reason: string; message: string };
  /** the object is gone from the API: stop writing */
  private gone = false;

  constructor(ctx: KubeletContext, pod: KObject) {
    this.ctx = ctx;
    this.latest = pod;
    this.node = pod.spec.nodeName;
    this.ns = pod.metadata.namespace as string;
    this.name = pod.metadata.name as string;
    this.uid = pod.metadata.uid as string;
    this.restartPolicy = pod.spec.restartPolicy ?? 'Always';
    const initSpecs: any[] = pod.spec.initContainers ?? [];
    this.init = initSpecs.map((c) => new ContainerRun(c, true, false));
    this.main = (pod.spec.containers ?? []).map((c: any) => new ContainerRun(c, false, initSpecs.length > 0));
    this.initDone = initSpecs.length === 0;
    const node = ctx.nodes.get(this.node);
    this.hostIP = node?.status?.addresses?.find((a: any) => a.type === 'InternalIP')?.address ?? '192.0.2.1';
    this.podDir = fs.mkdtempSync(path.join(ctx.baseDir, `${this.ns}_${this.name}-`));
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The pod as stored now (read-only: its container environment and its events' involvedObject read it). */
  pod(): KObject {
    const current = this.ctx.store.peek('pods', this.ns, this.name);
    if (current && current.metadata.uid === this.uid) this.latest = current;
    return this.latest;
  }

  sync(): void {
    if (this.gone) return;
    this.ctx.api.writeStatus(PODS, this.ns, this.name, (p) => {
      if (p.metadata.uid === this.uid) applyStatus(p, this);
    });
  }

  event(input: Omit<EventInput, 'style' | 'host'>): void {
    if (!this.gone) this.ctx.events.record(this.pod(), { ...input, style: 'kubelet', host: this.node });
  }

  containers(): ContainerRun[] {
    return [...this.init, ...this.main];
  }

  start(): void {
    this.run().catch((err) => console.error(`k8s-sim: kubelet failed on pod ${this.ns}/${this.name}`, err));
  }

  private async run(): Promise<void> {
    this.sync();
    if (!(await this.mountVolumes())) return;
    const ports = this.main.flatMap((c) => (c.spec.ports ?? []).map((p: any) => p.containerPort));
    this.ip = await this.ctx.addresses.allocate(ports);
    if (this.signal.aborted) return;
    this.sandbox = true;
    this.sync();
    for (const c of this.init) {
      const loop = c.run(this, this.restartPolicy);
      this.loops = [loop];
      if (!(await loop)) {
        if (this.signal.aborted) return;
        this.phaseOverride = 'Failed';
        this.sync();
        return;
      }
    }
    if (this.signal.aborted) return;
    this.initDone = true;
    this.sync();
    this.loops = this.main.map((c) => c.run(this, this.restartPolicy));
    await Promise.all(this.loops);
  }

  /** A mount problem for a volume: missing secret/configMap, or an injected fault for its claim/server/source. */
  private mountProblem(v: any): string | null {
    const faults = this.ctx.faults.mountErrors;
    const target = v.persistentVolumeClaim?.claimName ?? v.nfs?.server ?? v.secret?.secretName ?? v.configMap?.name;
    if (target && faults.has(target)) return faults.get(target) as string;
    if (v.secret && !v.secret.optional && !this.ctx.store.get('secrets', this.ns, v.secret.secretName)) return `secret "${v.secret.secretName}" not found`;
    if (v.configMap && !v.configMap.optional && !this.ctx.store.get('configmaps', this.ns, v.configMap.name)) return `configmap "${v.configMap.name}" not found`;
    return null;
  }

  /** Retries failing mounts (repeating FailedMount) until they work; false if the pod stopped meanwhile. */
  private async mountVolumes(): Promise<boolean> {
    for (;;) {
      const failing = (this.latest.spec.volumes ?? []).map((v: any) => [v.name, this.mountProblem(v)]).filter(([, p]: any) => p);
      if (failing.length === 0) return !this.signal.aborted;
      for (const [name, problem] of failing) {
        this.event({ type: 'Warning', reason: 'FailedMount', message: `MountVolume.SetUp failed for volume "${name}" : ${problem}` });
      }
      if (!(await sleep(this.ctx.timing.mountRetryMs, this.signal))) return false;
    }
  }

  private running(): ContainerRun[] {
    return this.containers().filter((c) => c.proc);
  }

  /** Graceful stop after the pod got a deletionTimestamp; a later, shorter grace period shortens the wait. */
  terminate(graceSeconds: number): Promise<void> {
    if (this.killTimer) clearTimeout(this.killTimer);
    this.killTimer = setTimeout(() => this.running().forEach((c) => c.proc?.signal('SIGKILL')), graceSeconds * 1000);
    if (this.termination) return this.termination;
    this.termination = (async () => {
      const procs = this.running();
      this.controller.abort();
      for (const c of procs) {
        this.event({ type: 'Normal', reason: 'Killing', message: `Stopping container ${c.name}`, fieldPath: c.fieldPath });
        c.proc?.signal('SIGTERM');
      }
      await Promise.all(this.loops);
      if (this.killTimer) clearTimeout(this.killTimer);
      const exits = this.main.map((c) => c.state.terminated?.exitCode);
      this.phaseOverride ??= exits.every((e) => e === 0) ? 'Succeeded' : 'Failed';
      this.sync();
      this.ctx.api.finishDeletion(PODS, this.ns, this.name);
    })();
    return this.termination;
  }

  /** Node-pressure eviction: containers killed at once, phase Failed with reason Evicted; the object stays. */
  async evict(message: string): Promise<void> {
    this.disruption = { reason: 'TerminationByKubelet', message };
    this.event({ type: 'Warning', reason: 'Evicted', message });
    const procs = this.running();
    this.controller.abort();
    for (const c of procs) {
      this.event({ type: 'Normal', reason: 'Killing', message: `Stopping container ${c.name}`, fieldPath: c.fieldPath });
      c.forcedExit = { exitCode: 137, reason: 'Error' };
      c.proc?.signal('SIGKILL');
    }
    await Promise.all(this.loops);
    this.phaseOverride = 'Failed';
    this.reason = 'Evicted';
    this.message = message;
    this.sync();
  }

  /** Kills a container's process as a crash would (the restart policy then applies). */
  crash(container: string | undefined, exitCode: number, reason: string): boolean {
    const c = this.main.find((x) => (container ? x.name === container : x.proc)) ?? this.init.find((x) => x.proc);
    if (!c?.proc) return false;
    c.forcedExit = { exitCode, reason };
    c.proc.signal('SIGKILL');
    return true;
  }

  /** The pod object is gone (force delete or end of graceful delete): kill everything, clean up. */
  async destroy(): Promise<void> {
    this.gone = true;
    this.controller.abort();
    if (this.killTimer) clearTimeout(this.killTimer);
    this.running().forEach((c) => c.proc?.signal('SIGKILL'));
    await Promise.all(this.loops);
    fs.rmSync(this.podDir, { recursive: true, force: true });
  }
}
