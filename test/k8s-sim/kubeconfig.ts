// Client configuration pointing at the simulator: a kubeconfig YAML (for loadFromString / KUBECONFIG files /
// kubectl) and the same thing as the object KubeConfig.loadFromOptions takes. Plain HTTP needs skip-TLS-verify
// in @kubernetes/client-node (spec section 0).

export interface KubeconfigOptions {
  clusters: Array<{ name: string; server: string; skipTLSVerify: boolean }>;
  users: Array<{ name: string; token: string }>;
  contexts: Array<{ name: string; cluster: string; user: string; namespace: string }>;
  currentContext: string;
}

export function kubeconfigOptions(server: string, token: string, namespace: string): KubeconfigOptions {
  return {
    clusters: [{ name: 'k8s-sim', server, skipTLSVerify: true }],
    users: [{ name: 'k8s-sim-user', token }],
    contexts: [{ name: 'k8s-sim', cluster: 'k8s-sim', user: 'k8s-sim-user', namespace }],
    currentContext: 'k8s-sim',
  };
}

export function kubeconfigYaml(server: string, token: string, namespace: string): string {
  const q = (s: string): string => JSON.stringify(s); // JSON strings are valid YAML scalars
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: k8s-sim',
    '  cluster:',
    `    server: ${q(server)}`,
    '    insecure-skip-tls-verify: true',
    'users:',
    '- name: k8s-sim-user',
    '  user:',
    `    token: ${q(token)}`,
    'contexts:',
    '- name: k8s-sim',
    '  context:',
    '    cluster: k8s-sim',
    '    user: k8s-sim-user',
    `    namespace: ${q(namespace)}`,
    'current-context: k8s-sim',
    '',
  ].join('\n');
}
