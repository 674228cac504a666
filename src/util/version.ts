// The JupyterHub version nodehub speaks (REST API models, X-JupyterHub-Version, GET /hub/api, the pod annotation
// KubeSpawner writes): the REST models follow JupyterHub 5.4.6's. jupyterhub-singleuser compares it with its own
// version and warns on a mismatch (5.x: major differs; 3.x/4.x: major.minor differs), so no one value quiets every
// singleuser release; docs/differences.md says which warn and why this one was chosen. One constant for the whole hub.
export const JUPYTERHUB_VERSION = '5.4.6';
