# The JupyterHub version nodehub speaks for (its API reports the same), passed in by nodehub's config loader.
import os

__version__ = os.environ.get("NODEHUB_JUPYTERHUB_VERSION", "5.4.6")
version_info = tuple(int(p) if p.isdigit() else p for p in __version__.split("."))
