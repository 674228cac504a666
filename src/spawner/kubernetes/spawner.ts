// KubeSpawner: each server is a pod (spec section 1), started, watched and stopped through the hub's one pod informer
// (cluster.ts). Better than KubeSpawner where its users suffer (spec 1.15): starts wake on watch events instead of
// polling, a pod that cannot start (image pull error, unschedulable, crash loop, mount failure) fails the start within
// seconds with the reason and is deleted, and a pod's Kubernetes events are the progress bar.
import type { V1Pod } from '@kubernetes/client-node';
import { ProgressFeed } from '../progress-feed.ts';
import { waitForHttp } from '../readiness.ts';
import type { ProgressEvent, Spawner, SpawnerInit } from '../types.ts';
import { classifyStartingPod, isPodRunning, notebookStatus, podUrl, pollPod, serverExit } from './classify.ts';
import { apiProblem } from './client.ts';
import { createPod, type PodCreation } from './create.ts';
import { clusterFor, type KubeCluster } from './cluster.ts';
import { formatEvent, StartEvents, type PodEvent } from './events.ts';
import { makePod } from './pod.ts';
import { startClaim } from './storage.ts';
import type { KObject } from './reflector.ts';
import { expandTemplate, templateFields } from './slugs.ts';
import { PodProbe } from './versions.ts';
import { readKubeTraits, type KubeTraits } from './traits.ts';

export class KubeSpawner implements Spawner {
  readonly #init: SpawnerInit;
  #traits!: KubeTraits;
  #cluster: KubeCluster | null = null;
  #configError: Error | null = null;
  #fields: Record<string, string> = {};
  #podName = '';
  #pvcName = '';
  /** The claim is known to exist (created or found): its name is kept in the server's state from then on. */
  #pvcExists = false;
  /** uid of the pod this spawner created or adopted; a pod of the same name with another uid is not ours. */
  #uid: string | null = null;
  readonly #feed = new ProgressFeed();
  #progress = 10;
  #starting: AbortController | null = null;
  #startSettled: Promise<void> = Promise.resolve();
  #stopping: Promise<void> | null = null;
  #unwatchExit: (() => void) | null = null;
  /** The exit watch's check, run again once a start has settled (exits seen while starting are the start's to report). */
  #checkExit: (() => void) | null = null;
  /** This start's pod creation (create.ts); its `uncertain` says the pod may exist although no answer said so. */
  #creation: PodCreation | null = null;
  /** Built from a record (a server a previous hub started), not started by this hub. */
  #adopted = false;
  /** poll() answered from the record because the API could not be listed; the exit watch checks once it can. */
  #deferred = false;
  /** Where this server's start-up probe comes from and which version it is told (versions.ts). */
  #probe: PodProbe | null = null;

  constructor(init: SpawnerInit) {
    this.#init = init;
    try {
      this.#traits = readKubeTraits(init.config);
      this.#cluster = clusterFor(init.hubConfig, init.log);
      this.#probe = new PodProbe(this.#cluster.versions);
      const { spec } = init;
      this.#fields = templateFields({ userName: spec.user.name, userId: spec.user.id, serverName: spec.serverName,
        namespace: this.#cluster.namespace, scheme: this.#traits.slugScheme });
      this.#podName = expandTemplate(this.#traits.podNameTemplate, this.#fields);
      this.#fields.pod_name = this.#podName;
      this.#pvcName = expandTemplate(this.#traits.storage.nameTemplate, this.#fields);
      // KubeSpawner's remember_pvc_name: the claim a server once had stays its claim whatever the template says now.
      if (typeof init.state.pvc_name === 'string' && init.state.pvc_name && this.#traits.storage.rememberName) {
        this.#pvcName = init.state.pvc_name;
        this.#pvcExists = true;
      }
      this.#fields.pvc_name = this.#pvcName;
    } catch (err) {
      // reported by start(), so a bad trait or a missing cluster fails a spawn instead of crashing the hub
      this.#configError = err as Error;
    }
    // A server a previous hub started: the saved name wins over a template that may have changed since.
    const state = init.state;
    if (typeof state.pod_name === 'string' && state.pod_name) {
      this.#podName = state.pod_name;
      this.#uid = typeof state.pod_uid === 'string' ? state.pod_uid : null;
      this.#adopted = true;
      if (this.#cluster) this.#watchForExit();
    }
  }

  /** poll() said "running" from the record alone (the API is down); see Spawner.checkDeferred. */
  checkDeferred(): boolean {
    return this.#deferred && !this.#cluster?.pods.synced;
  }

  getState(): Record<string, unknown> {
    if (!this.#podName) return {};
    return { pod_name: this.#podName, namespace: this.#cluster?.namespace ?? '', pod_uid: this.#uid, ...this.keptState() };
  }

  /** What outlives a stop: the claim's name once it exists (KubeSpawner's clear_state keeps pvc_name). */
  keptState(): Record<string, unknown> {
    return this.#pvcExists ? { pvc_name: this.#pvcName } : {};
  }

  progress(): AsyncIterable<ProgressEvent> {
    return this.#feed.events();
  }

  async poll(): Promise<number | null> {
    if (!this.#cluster) return 1;
    if (this.#adopted && !this.#starting && !this.#cluster.pods.synced) {
      // A restarted hub re-adopting while the API server is down: the record says the pod runs, and its users' traffic
      // needs no API. It is trusted after one request timeout; the exit watch checks the pod the moment the informer
      // lists, and reports it gone (the hub then cleans up) if it is.
      try {
        await this.#cluster.ready(this.#traits.requestTimeoutMs);
      } catch {
        if (!this.#deferred) this.#init.log.warn(`The Kubernetes API does not answer: pod ${this.#podName} is taken as running, as recorded, until it does`);
        this.#deferred = true;
        return null;
      }
    }
    await this.#cluster.ready(this.#traits.requestRetryTimeoutMs);
    const { status, terminated } = pollPod(this.#ownPod());
    if (terminated && this.#traits.deleteStoppedPods && !this.#starting) await this.stop();
    return status;
  }

  start(): Promise<string> {
    if (this.#configError) return Promise.reject(this.#configError);
    if (this.#starting) return Promise.reject(new Error('This server is already starting'));
    const abort = new AbortController();
    this.#starting = abort;
    const run = this.#run(AbortSignal.any([abort.signal, this.#cluster!.closing.signal]));
    this.#startSettled = run.then(() => undefined, () => undefined);
    return run;
  }

  /** Aborts a start in progress and lets it unwind, then deletes the pod and waits until the informer sees it gone. */
  async stop(): Promise<void> {
    if (this.#starting) {
      this.#starting.abort();
      await this.#startSettled;
    }
    if (!this.#cluster) return;
    this.#stopping ??= this.#deletePod(this.#traits.deleteGracePeriod).finally(() => {
      this.#stopping = null;
    });
    return this.#stopping;
  }

  /** The pod in the informer's cache, if it is the one this spawner made (same uid) or one it has not seen yet. */
  #ownPod(): KObject | undefined {
    const pod = this.#cluster!.pods.get(this.#podName);
    if (pod && this.#uid && pod.metadata?.uid !== this.#uid) return undefined;
    return pod;
  }

  #push(message: string, progress?: number, rawEvent?: unknown): void {
    this.#progress = progress ?? this.#progress + (90 - this.#progress) / 3;
    this.#feed.push({ progress: Math.round(this.#progress), message, ...(rawEvent !== undefined ? { raw_event: rawEvent } : {}) });
  }

  async #run(signal: AbortSignal): Promise<string> {
    const cluster = this.#cluster!;
    const t = this.#traits;
    let events: StartEvents | null = null;
    let claim: StartEvents | null = null;
    try {
      if (this.#stopping) await this.#stopping;
      this.#unwatch();
      this.#feed.reset();
      this.#progress = 10;
      this.#uid = null;
      this.#creation = null;
      if (t.namespace && t.namespace !== cluster.namespace) {
        throw new Error(`KubeSpawner.namespace ${JSON.stringify(t.namespace)} differs from the hub's (${cluster.namespace}); profiles cannot move pods to another namespace`);
      }
      if (!cluster.pods.synced) this.#push(`Waiting for the Kubernetes API at ${cluster.client.server} (the hub has not listed its pods yet)`);
      await cluster.ready(t.requestRetryTimeoutMs);
      if (t.storage.ensure) {
        claim = await startClaim(cluster, t, this.#init.spec, this.#pvcName, this.#fields, signal, (e) => this.#onEvent(e, t.eventsEnabled), () => {
          this.#pvcExists = true;
          this.#init.recordState?.(this.getState());
        });
        if (claim) this.#push(`Claim ${this.#pvcName} is not bound yet; waiting for its volume`, 12);
      }
      this.#push(`Creating pod ${cluster.namespace}/${this.#podName}`, 15);
      if (t.eventsEnabled) events = new StartEvents(cluster, this.#podName, (e) => this.#onEvent(e));
      const manifest = makePod({ traits: t, config: this.#init.config, spec: this.#init.spec, podName: this.#podName, fields: this.#fields,
        adminAccess: this.#init.hubConfig?.hub?.admin_access === true });
      this.#creation = {
        cluster, traits: t, podName: this.#podName, log: this.#init.log, uncertain: false,
        push: (message) => this.#push(message),
        deleteStale: async (sig) => {
          this.#uid = null;
          await this.#deletePod(0, sig);
        },
      };
      this.#uid = await createPod(this.#creation, manifest, signal);
      events?.setUid(this.#uid);
      const pod = await this.#waitRunning(signal, events, claim, Date.now() + t.startTimeoutMs);
      const url = podUrl(pod, t.podConnectIp);
      this.#push(`Pod is running; waiting for the server at ${url}`, Math.max(this.#progress, 90));
      await this.#waitHttp(url, signal);
      this.#watchForExit();
      return url;
    } catch (err) {
      if (signal.aborted) throw new Error('Start was cancelled: the server was stopped while starting');
      // A pod that will not start is deleted at once (grace 0), not left to run into a timeout.
      if (this.#uid !== null || this.#creation?.uncertain) await this.#deletePod(0).catch((e: Error) => this.#init.log.warn(e.message));
      throw err;
    } finally {
      await events?.close();
      await claim?.close();
      this.#starting = null;
      this.#feed.end();
      // an exit that came while the start was finishing was skipped by the exit watch: look again now
      this.#checkExit?.();
    }
  }

  #onEvent(e: PodEvent, show = true): void {
    if (show) this.#push(formatEvent(e), undefined, e.raw);
    for (const hook of [...this.#eventHooks]) hook();
  }

  /** Resolves with the pod once it runs; rejects as soon as it cannot (fail fast) or at start_timeout. Event-driven. */
  #waitRunning(signal: AbortSignal, events: StartEvents | null, claim: StartEvents | null, deadlineAt: number): Promise<KObject> {
    const cluster = this.#cluster!;
    const t = this.#traits;
    const waitingForCapacity = (waiting: boolean) => this.#init.waitingForCapacity?.(waiting);
    return new Promise<KObject>((resolve, reject) => {
      let seen = false;
      let unschedulableSince: number | null = null;
      let recheck: NodeJS.Timeout | undefined;
      const deadline = setTimeout(() => {
        // KubeSpawner's remedy when the informer never showed the pod: it may be stuck, so relist.
        if (!seen) cluster.pods.restart();
        const last = this.#ownPod()?.status;
        finish(new Error(`Pod ${this.#podName} did not start in ${t.startTimeoutMs / 1000} seconds${last?.phase ? ` (last phase: ${last.phase})` : ''}`));
      }, Math.max(0, deadlineAt - Date.now()));
      const check = () => {
        const pod = this.#ownPod();
        if (!pod) {
          if (seen) finish(new Error(`Pod ${this.#podName} was deleted while starting`));
          return;
        }
        seen = true;
        if (pod.metadata?.deletionTimestamp) return finish(new Error(`Pod ${this.#podName} is being deleted`));
        this.#probe?.seen(pod);
        // before "running": a pod seen running again after its server exited (one watch read) has still failed
        const verdict = classifyStartingPod(pod, events?.pullDetail);
        // no node yet, one promised: the hub frees this spawn's concurrent_spawn_limit place until it is placed
        waitingForCapacity(verdict?.kind === 'unschedulable' && events?.scaleUp === true && !pod.spec?.nodeName);
        if (verdict?.kind === 'failed') return finish(new Error(verdict.reason));
        if (isPodRunning(pod)) return finish(null, pod);
        if (events && events.failedMounts >= 2) return finish(new Error(`Could not mount the pod's volumes: ${events.lastFailedMount}`));
        let stuck = verdict?.kind === 'unschedulable' && !events?.scaleUp ? verdict.reason : null;
        // The user's claim still binding makes the pod unschedulable for a while (start_timeout bounds that); a claim
        // that says it cannot bind is stuck like an unschedulable pod.
        if (claim && !pod.spec?.nodeName) {
          if (claim.claimProblem) stuck = `Claim ${this.#pvcName} cannot bind: ${claim.claimProblem}`;
          else if (stuck && /unbound .*PersistentVolumeClaims/.test(stuck)) stuck = null;
        }
        if (stuck) {
          unschedulableSince ??= Date.now();
          const left = unschedulableSince + t.unschedulableTimeoutMs - Date.now();
          if (left <= 0) return finish(new Error(stuck));
          clearTimeout(recheck);
          recheck = setTimeout(check, left);
        } else unschedulableSince = null;
      };
      const unsubscribe = cluster.onPod(this.#podName, check);
      const off = this.#onAnyEvent(check);
      const onAbort = () => finish(new Error('aborted'));
      signal.addEventListener('abort', onAbort, { once: true });
      let done = false;
      function finish(err: Error | null, pod?: KObject): void {
        if (done) return;
        done = true;
        waitingForCapacity(false);
        clearTimeout(deadline);
        clearTimeout(recheck);
        unsubscribe();
        off();
        signal.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve(pod!);
      }
      check();
    });
  }

  readonly #eventHooks = new Set<() => void>();

  /** Fail-fast rules that read events (FailedMount, pull errors) re-check the pod whenever an event arrives. */
  #onAnyEvent(hook: () => void): () => void {
    this.#eventHooks.add(hook);
    return () => this.#eventHooks.delete(hook);
  }

  /**
   * Waits until the server in the pod answers; gives up at once when the pod stops running or its server exits (even
   * if Kubernetes restarted it). Checks the pod the informer holds now, not only later changes: the exit may have come
   * in the same watch read as "Running", before this subscribed.
   */
  async #waitHttp(url: string, signal: AbortSignal): Promise<void> {
    const cluster = this.#cluster!;
    const stopped = new AbortController();
    const check = () => {
      const pod = this.#ownPod();
      if (!isPodRunning(pod) || serverExit(notebookStatus(pod))) stopped.abort();
    };
    const unsubscribe = cluster.onPod(this.#podName, check);
    check();
    try {
      const answer = await waitForHttp(`${url}${this.#init.spec.prefix}`, {
        timeoutMs: this.#traits.httpTimeoutMs,
        signal: AbortSignal.any([signal, stopped.signal]),
        isDead: () => stopped.signal.aborted,
      });
      this.#probe?.reported(this.#ownPod(), answer.version);
    } catch (err) {
      if (signal.aborted) throw err;
      const pod = this.#ownPod();
      const verdict = pod ? classifyStartingPod(pod) : null;
      if (!pod) throw new Error(`Pod ${this.#podName} went away before its server answered`);
      if (verdict?.kind === 'failed') throw new Error(verdict.reason);
      if (stopped.signal.aborted) {
        const exit = serverExit(notebookStatus(pod));
        throw new Error(exit ? `The server exited with ${exit} before it answered at ${url}`
          : `The pod stopped running (phase ${pod.status?.phase ?? 'unknown'}) before its server answered at ${url}`);
      }
      throw err;
    } finally {
      unsubscribe();
    }
  }

  /** Tells the hub at once when a running server's pod is deleted, evicted or exits (no waiting for the next poll). */
  #watchForExit(): void {
    this.#unwatchExit?.();
    this.#checkExit = null;
    const cluster = this.#cluster!;
    const check = () => {
      if (!cluster.pods.synced || this.#starting || this.#stopping) return;
      const pod = this.#ownPod();
      const { status } = pollPod(pod);
      if (status === null) return this.#probe?.seen(pod);
      this.#unwatch();
      const why = !pod ? `Pod ${this.#podName} is gone` : pod.status?.reason ? `Pod ${this.#podName} ${pod.status.reason}: ${pod.status.message ?? ''}`.trim()
        : `The server in pod ${this.#podName} exited with code ${status}`;
      this.#init.onExit(why);
    };
    this.#unwatchExit = cluster.onPod(this.#podName, check);
    this.#checkExit = check;
    // the pod as the informer holds it now: its exit may have been applied before this subscribed
    check();
  }

  /** The pod's exit is no longer this server's news, nor a start-up probe from its IP (the server stops or restarts). */
  #unwatch(): void {
    this.#unwatchExit?.();
    this.#unwatchExit = null;
    this.#checkExit = null;
    this.#probe?.forget();
  }

  /** Deletes the pod (404 = already gone) and waits until the informer no longer has it. */
  async #deletePod(grace: number, signal?: AbortSignal): Promise<void> {
    this.#unwatch();
    const cluster = this.#cluster!;
    const name = this.#podName;
    await cluster.deletePod(name, grace, signal);
    await cluster.waitPodGone(name, this.#uid, this.#traits.startTimeoutMs, signal);
    this.#uid = null;
  }
}
