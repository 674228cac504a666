// A hub whose spawner is `kubernetes`, pointed at a k8s-sim simulator through a kubeconfig file with the hub's own
// limited token (HUB_RULES: pods, events, daemonsets). The pods run the mock single-user server by default, binding
// their own pod IP through the Kubernetes way of saying so: env POD_IP from status.podIP, and ip '$(POD_IP)'.
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createSimulator, HUB_RULES, type Rule, type Simulator, type SimulatorOptions } from '../k8s-sim/index.ts';
import { MOCK_SINGLEUSER, startTestHub, type TestHub } from './hub.ts';

export const NAMESPACE = 'jhub';
export const IMAGE = 'nodehub-test/singleuser:1';

export type Sections = Record<string, Record<string, unknown>>;

/** A simulator with the `jhub` namespace, one node, and a hub token limited to the hub's Role (or `rules`). */
export async function startSim(opts: SimulatorOptions = {}, rules: Rule[] = HUB_RULES): Promise<{ sim: Simulator; kubeconfig: string; dir: string }> {
  const hubToken = randomBytes(12).toString('hex');
  const sim = await createSimulator({
    namespaces: [NAMESPACE],
    tokens: { [hubToken]: { user: `system:serviceaccount:${NAMESPACE}:hub`, rules } },
    ...opts,
  });
  const dir = mkdtempSync(join(tmpdir(), 'nodehub-k8s-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, sim.kubeconfigFor(hubToken, NAMESPACE).yaml);
  return { sim, kubeconfig, dir };
}

/** KubeSpawner settings for tests: the mock server as the pod's command, binding the pod's own IP. */
export function kubeSection(kubeconfig: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    kubeconfig,
    namespace: NAMESPACE,
    image: IMAGE,
    cmd: [process.execPath, MOCK_SINGLEUSER],
    ip: '$(POD_IP)',
    environment: { POD_IP: { valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } } },
    start_timeout: 20,
    http_timeout: 10,
    unschedulable_timeout: 1,
    watch_timeout: 5,
    prepuller_enabled: false,
    ...extra,
  };
}

export async function startK8sHub(kubeconfig: string, extra: Sections = {}, opts: { dir?: string; adminToken?: string } = {}): Promise<TestHub> {
  const { KubeSpawner, JupyterHub, ...rest } = extra;
  return startTestHub({
    JupyterHub: { spawner_class: 'kubernetes', slow_spawn_timeout: 0, ...JupyterHub },
    KubeSpawner: kubeSection(kubeconfig, KubeSpawner),
    ...rest,
  }, opts);
}

/** The SSE progress stream of a server until it ends (ready or failed), as parsed events. */
export async function readProgress(hub: TestHub, user: string, serverName = ''): Promise<Array<Record<string, any>>> {
  const path = serverName ? `/users/${user}/servers/${serverName}/progress` : `/users/${user}/server/progress`;
  const res = await hub.api(path);
  const text = await res.text();
  return text.split('\n\n').filter((b) => b.startsWith('data: ')).map((b) => JSON.parse(b.slice(6)));
}
