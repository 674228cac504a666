// A pod's status as the kubelet reports it: phase, the five conditions of spec 6.8 (plus DisruptionTarget), IPs and
// container statuses, computed from the worker's view of its containers.
import { setCondition } from './scheduler.ts';
import type { ContainerRun } from './container.ts';
import type { KObject } from './types.ts';

export interface PodView {
  init: ContainerRun[];
  main: ContainerRun[];
  sandbox: boolean;
  ip: string | null;
  hostIP: string;
  startTime: string;
  initDone: boolean;
  /** set once the pod reached a terminal phase outside the normal flow (deletion, eviction, failed init) */
  phaseOverride: 'Succeeded' | 'Failed' | null;
  reason?: string;
  message?: string;
  disruption?: { reason: string; message: string };
}

export function podPhase(v: PodView): string {
  if (v.phaseOverride) return v.phaseOverride;
  if (!v.initDone) return 'Pending';
  if (v.main.every((c) => c.done)) {
    return v.main.every((c) => c.state.terminated?.exitCode === 0) ? 'Succeeded' : 'Failed';
  }
  return v.main.some((c) => c.everRan) ? 'Running' : 'Pending';
}

function names(list: ContainerRun[]): string {
  return `[${list.map((c) => c.name).join(' ')}]`;
}

/** Writes the kubelet-owned parts of `pod.status` (keeps qosClass and the scheduler's PodScheduled). */
export function applyStatus(pod: KObject, v: PodView): void {
  const s = pod.status;
  const phase = podPhase(v);
  const terminal = phase === 'Succeeded' || phase === 'Failed';
  s.phase = phase;
  s.hostIP = v.hostIP;
  s.hostIPs = [{ ip: v.hostIP }];
  if (v.ip) {
    s.podIP = v.ip;
    s.podIPs = [{ ip: v.ip }];
  }
  s.startTime = v.startTime;
  if (v.reason) s.reason = v.reason;
  if (v.message) s.message = v.message;

  setCondition(pod, { type: 'PodReadyToStartContainers', status: v.sandbox && !terminal ? 'True' : 'False' });
  const pendingInit = v.init.filter((c) => !c.done);
  if (v.initDone || v.init.length === 0) {
    setCondition(pod, terminal && v.init.length ? { type: 'Initialized', status: 'True', reason: 'PodCompleted' } : { type: 'Initialized', status: 'True' });
  } else {
    setCondition(pod, { type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized', message: `containers with incomplete status: ${names(pendingInit)}` });
  }
  const unready = v.main.filter((c) => !c.ready);
  for (const type of ['Ready', 'ContainersReady']) {
    if (terminal) setCondition(pod, { type, status: 'False', reason: 'PodCompleted' });
    else if (unready.length === 0) setCondition(pod, { type, status: 'True' });
    else setCondition(pod, { type, status: 'False', reason: 'ContainersNotReady', message: `containers with unready status: ${names(unready)}` });
  }
  if (v.disruption) {
    setCondition(pod, { type: 'DisruptionTarget', status: 'True', reason: v.disruption.reason, message: v.disruption.message });
  }
  const order = ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled', 'DisruptionTarget'];
  s.conditions.sort((a: any, b: any) => order.indexOf(a.type) - order.indexOf(b.type));
  if (v.init.length) s.initContainerStatuses = v.init.map((c) => c.status());
  s.containerStatuses = v.main.map((c) => c.status());
}
