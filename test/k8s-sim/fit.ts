// Scheduling predicates shared by the scheduler and the DaemonSet controller: node selector and required node
// affinity, taints vs tolerations, and resource fit.
import { podRequests, parseQuantity } from './quantity.ts';
import type { KObject, Taint } from './types.ts';

interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: string;
}

export function tolerates(tolerations: Toleration[] | undefined, taint: Taint): boolean {
  return (tolerations ?? []).some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (t.operator === 'Exists') return !t.key || t.key === taint.key;
    return t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
  });
}

/** The node's effective taints: its own, plus the one a cordon implies. */
export function nodeTaints(node: KObject): Taint[] {
  const taints: Taint[] = [...(node.spec?.taints ?? [])];
  if (node.spec?.unschedulable) taints.push({ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' });
  return taints;
}

/** The first NoSchedule/NoExecute taint the pod does not tolerate, if any. */
export function untoleratedTaint(node: KObject, tolerations: Toleration[] | undefined): Taint | undefined {
  return nodeTaints(node).find((t) => t.effect !== 'PreferNoSchedule' && !tolerates(tolerations, t));
}

function matchExpression(value: string | undefined, e: any): boolean {
  const values: string[] = e.values ?? [];
  switch (e.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
      return value !== undefined && Number(value) > Number(values[0]);
    case 'Lt':
      return value !== undefined && Number(value) < Number(values[0]);
    default:
      return false;
  }
}

/** nodeSelector (all labels equal) and required node affinity (any term; all expressions of a term). */
export function matchesNodeSelection(node: KObject, spec: any): boolean {
  const labels = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries(spec?.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const terms: any[] | undefined =
    spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (!terms || terms.length === 0) return true;
  return terms.some(
    (term) =>
      (term.matchExpressions ?? []).every((e: any) => matchExpression(labels[e.key], e)) &&
      (term.matchFields ?? []).every((e: any) => e.key === 'metadata.name' && matchExpression(node.metadata.name, e)),
  );
}

function isActive(pod: KObject): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed';
}

/** Reasons (as the scheduler words them) the node lacks room for the pod, given the pods already bound to it. */
export function insufficientResources(node: KObject, pod: KObject, podsOnNode: KObject[]): string[] {
  const allocatable: Record<string, unknown> = node.status?.allocatable ?? {};
  const active = podsOnNode.filter(isActive);
  const reasons: string[] = [];
  if (active.length + 1 > (parseQuantity(allocatable.pods) ?? 110)) reasons.push('Too many pods');
  const wanted = podRequests(pod);
  const used: Record<string, number> = {};
  for (const p of active) for (const [k, v] of Object.entries(podRequests(p))) used[k] = (used[k] ?? 0) + v;
  for (const [name, amount] of Object.entries(wanted)) {
    if (amount <= 0) continue;
    const capacity = parseQuantity(allocatable[name]) ?? 0;
    if ((used[name] ?? 0) + amount > capacity + 1e-9) reasons.push(`Insufficient ${name}`);
  }
  return reasons;
}

/** Why one node cannot take the pod (empty = it fits), in the scheduler's filter order. */
export function nodeRejections(node: KObject, pod: KObject, podsOnNode: KObject[]): string[] {
  const tolerations = pod.spec?.tolerations;
  if (node.spec?.unschedulable && !tolerates(tolerations, { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' })) {
    return ['node(s) were unschedulable'];
  }
  const taint = untoleratedTaint(node, tolerations);
  if (taint) return [`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`];
  if (!matchesNodeSelection(node, pod.spec)) return ["node(s) didn't match Pod's node affinity/selector"];
  return insufficientResources(node, pod, podsOnNode);
}
