# nodehub's stand-in for the `jupyterhub` package, seen only by a jupyterhub_config.py while nodehub reads it (see
# ../../runner.py for why it comes before a real JupyterHub). It holds the version and the classes a config names;
# nodehub turns a class into its path ("jupyterhub.auth.DummyAuthenticator") and looks that up in its own registry.
import importlib.machinery
import os
import sys

from ._version import __version__, version_info

# Modules the stand-in does not have come from a real JupyterHub, when one is installed.
_stand_in_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_real = importlib.machinery.PathFinder.find_spec(
    "jupyterhub", [p for p in sys.path if os.path.abspath(p or ".") != _stand_in_root]
)
if _real is not None and _real.submodule_search_locations:
    __path__ = list(__path__) + list(_real.submodule_search_locations)
