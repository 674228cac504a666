// The JupyterHub version nodehub speaks (REST API, X-JupyterHub-Version, the pod annotation KubeSpawner writes):
// singleuser servers and clients check it, so it is one constant for the whole hub.
export const JUPYTERHUB_VERSION = '3.0.0';
