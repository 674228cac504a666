// The JupyterHub version nodehub speaks (REST API models, X-JupyterHub-Version, GET /hub/api, the pod annotation
// KubeSpawner writes): the REST models follow JupyterHub 5.4.6's. jupyterhub-singleuser compares the version with its
// own as it starts and warns on a mismatch (5.x: major differs; 3.x/4.x: major.minor differs), so that one request of
// a local server (src/spawner/local/singleuser-version.ts) or a pod (src/spawner/kubernetes/versions.ts) is answered
// with the server's own version instead (docs/differences.md "hub version"). One constant for everything else.
export const JUPYTERHUB_VERSION = '5.4.6';
