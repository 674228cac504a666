// Reading a pod's status: is it running, has it failed for good (fail fast, spec 1.15), and what poll() says
// (KubeSpawner's table, spec 1.11). Pure functions of the pod object, so each rule is unit-tested without a cluster.
type Obj = Record<string, any>;

/** KubeSpawner's is_pod_running: Running, with an IP, not being deleted, every container ready. */
export function isPodRunning(pod: Obj | undefined): boolean {
  if (!pod) return false;
  const s = pod.status ?? {};
  const statuses: Obj[] = s.containerStatuses ?? [];
  return s.phase === 'Running' && !!s.podIP && !pod.metadata?.deletionTimestamp && statuses.length > 0 && statuses.every((c) => c.ready === true);
}

export type Verdict =
  | { kind: 'failed'; reason: string }
  | { kind: 'unschedulable'; reason: string }
  | null;

/** Image-pull errors that no retry will fix: fail at the first ErrImagePull instead of waiting for the back-off. */
const PERMANENT_PULL_ERROR = /not found|manifest unknown|unauthorized|denied|invalid reference|no such host/i;

/** Waiting reasons that mean the container will not start without someone changing something. */
const HOPELESS_WAITING = new Set(['InvalidImageName', 'ErrImageNeverPull', 'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);

function containerProblem(c: Obj, init: boolean, pullDetail: string | undefined): string | null {
  const what = init ? `init container "${c.name}"` : c.name === 'notebook' ? 'the server container' : `container "${c.name}"`;
  const waiting = c.state?.waiting;
  if (waiting) {
    const reason: string = waiting.reason ?? '';
    const message: string = waiting.message ?? '';
    if (reason === 'ImagePullBackOff' || (reason === 'ErrImagePull' && PERMANENT_PULL_ERROR.test(message))) {
      const detail = pullDetail ?? (reason === 'ErrImagePull' ? message : '');
      return `Could not pull image "${c.image}" for ${what} (${reason})${detail ? `: ${detail}` : ''}`;
    }
    if (HOPELESS_WAITING.has(reason)) return `${reason} for ${what}${message ? `: ${message}` : ''}`;
    if (reason === 'CrashLoopBackOff') {
      const t = c.lastState?.terminated ?? {};
      const exit = t.exitCode !== undefined ? `exit code ${t.exitCode}` : 'crashed';
      return `${what[0]!.toUpperCase()}${what.slice(1)} keeps crashing (${exit}${t.reason ? `, ${t.reason}` : ''}; restarted ${c.restartCount ?? 0} times, CrashLoopBackOff)`;
    }
  }
  return null;
}

/**
 * Why a starting pod will never become ready, or that it is unschedulable (the caller decides how long to allow that,
 * since a cluster autoscaler may be adding a node), or null while there is hope. `pullDetail` is the runtime's error
 * text from the last `Failed` pull event: the ImagePullBackOff state itself only says "Back-off pulling image".
 */
export function classifyStartingPod(pod: Obj, pullDetail?: string): Verdict {
  const s = pod.status ?? {};
  if (s.phase === 'Failed') {
    return { kind: 'failed', reason: `The pod failed${s.reason ? ` (${s.reason})` : ''}${s.message ? `: ${String(s.message).trim()}` : ''}` };
  }
  if (s.phase === 'Succeeded') return { kind: 'failed', reason: 'The server exited before it became ready (the pod completed)' };
  for (const c of s.initContainerStatuses ?? []) {
    const problem = containerProblem(c, true, pullDetail);
    if (problem) return { kind: 'failed', reason: problem };
  }
  for (const c of s.containerStatuses ?? []) {
    const problem = containerProblem(c, false, pullDetail);
    if (problem) return { kind: 'failed', reason: problem };
    // A server that exited during its start fails the start at once with its exit (restartPolicy OnFailure would
    // restart it after a growing back-off, and a start must not wait for that).
    const exit = c.name === 'notebook' ? serverExit(c) : null;
    if (exit) return { kind: 'failed', reason: `The server exited with ${exit} before it became ready` };
  }
  const scheduled = (s.conditions ?? []).find((c: Obj) => c.type === 'PodScheduled');
  // A pod that preempts others to make room gets a nominated node: room is on its way.
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable' && !s.nominatedNodeName) {
    return { kind: 'unschedulable', reason: `The pod cannot be scheduled: ${scheduled.message ?? 'no node fits it'}` };
  }
  return null;
}

/**
 * How the server container last exited, if it has exited since the pod was created ("code 3 (Error)"): its terminated
 * state, or, once restarted, the last one. null while it has never exited.
 */
export function serverExit(c: Obj | undefined): string | null {
  if (!c) return null;
  const t = c.state?.terminated ?? ((c.restartCount ?? 0) > 0 ? c.lastState?.terminated : undefined);
  if (!t) return null;
  const code = t.exitCode !== undefined ? `code ${t.exitCode}` : t.signal !== undefined ? `signal ${t.signal}` : 'an unknown status';
  return `${code}${t.reason ? ` (${t.reason})` : ''}`;
}

/** The server container's status in a pod. */
export function notebookStatus(pod: Obj | undefined): Obj | undefined {
  return (pod?.status?.containerStatuses ?? []).find((c: Obj) => c.name === 'notebook');
}

/** KubeSpawner's poll(): null while pending or running; the notebook container's exit code once it ended; 1 if gone. */
export function pollPod(pod: Obj | undefined): { status: number | null; terminated: boolean } {
  if (!pod) return { status: 1, terminated: false };
  const s = pod.status ?? {};
  if (s.phase === 'Pending') return { status: null, terminated: false };
  const statuses: Obj[] | undefined = s.containerStatuses;
  if (!statuses) return { status: 1, terminated: false };
  const notebook = statuses.find((c) => c.name === 'notebook');
  const t = notebook?.state?.terminated;
  if (t) return { status: typeof t.exitCode === 'number' ? t.exitCode : 1, terminated: true };
  return { status: null, terminated: false };
}

/** http://<pod IP or pod_connect_ip>:<notebook-port>, IPv6 in brackets. */
export function podUrl(pod: Obj, connectIp: string | null): string {
  const ports: Obj[] = (pod.spec?.containers ?? []).flatMap((c: Obj) => c.ports ?? []);
  const port = ports.find((p) => p.name === 'notebook-port')?.containerPort;
  if (!port) throw new Error(`No port 'notebook-port' in pod ${pod.metadata?.name}`);
  const host: string = connectIp ?? pod.status?.podIP;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
