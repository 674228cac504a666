"""What the fork server imports before forking, and what that import left behind that depends on the environment.

Modules are imported with os.environ watched: every name read at import time is noted with its value and the file
that read it. A child whose environment gives one of those names another value would not be what a fresh interpreter
is, unless a fix-up below puts that value right in the child; otherwise the child runs the real command instead.
"""
import ast
import gc
import importlib
import importlib.util
import os
import signal
import sys
import time

# Files that copy the whole environment at import time without using it in a jupyter-server (wsgiref: CGI only).
WHOLE_ENV_HARMLESS = ('/wsgiref/',)
# Frames between an importing module and os.environ, skipped to find who read a name.
PLUMBING = ('_nodehub_warm.py', '/pathlib.py', '_collections_abc.py', '_collections_abc>', '/os.py', ' os>', '/posixpath.py',
            ' posixpath>', '/genericpath.py', ' genericpath>')
LEARN_SECONDS = 30
# Never imported here: they read the hub's per-server variables at import time (the singleuser app class picks the
# application from JUPYTERHUB_SINGLEUSER_APP; services.auth copies the API URL, token and prefix into class defaults).
NOT_PRELOADED = ('jupyterhub.singleuser', 'jupyterhub.services.auth', '__main__')


def _fix_session_user():
    session = sys.modules.get('jupyter_client.session')
    if session is not None:
        session.Session.class_traits()['username'].default_value = os.environ.get('USER', 'username')


def _fix_user_base():
    sysconfig = sys.modules.get('sysconfig')
    if sysconfig is not None and hasattr(sysconfig, '_USER_BASE'):
        sysconfig._USER_BASE = sysconfig._getuserbase()


def _fix_jedi_cache():
    # jedi.settings is nothing but constants: running it again gives this user's cache directory
    settings = sys.modules.get('jedi.settings')
    if settings is not None:
        importlib.reload(settings)


def _fix_parso_cache():
    cache = sys.modules.get('parso.cache')
    if cache is not None:
        cache._default_cache_path = cache._get_default_cache_path()


# (name, file that read it at import time) -> what puts the child's own value in place after the fork, with the
# library's own code. IPython (imported by the classic notebook) brings jedi and parso, which note the user's cache.
FIXUPS = {
    ('USER', 'jupyter_client/session.py'): _fix_session_user,
    ('HOME', 'sysconfig.py'): _fix_user_base,
    ('PYTHONUSERBASE', 'sysconfig.py'): _fix_user_base,
    **{(key, 'jedi/settings.py'): _fix_jedi_cache for key in ('HOME', 'XDG_CACHE_HOME', 'LOCALAPPDATA')},
    **{(key, 'parso/cache.py'): _fix_parso_cache for key in ('HOME', 'XDG_CACHE_HOME', 'LOCALAPPDATA')},
}


def caller_file():
    frame = sys._getframe(2)
    while frame and frame.f_code.co_filename.endswith(PLUMBING):
        frame = frame.f_back
    return frame.f_code.co_filename if frame else '?'


class TrackedEnviron(type(os.environ)):
    """os.environ noting the names imported modules look at; it shares its data with the original mapping."""

    tracking = False
    reads = {}  # name -> value at import time (None: unset)
    readers = {}  # name -> files that read it
    whole = set()  # files that went through the whole environment

    def _note(self, key):
        if not TrackedEnviron.tracking:
            return
        file = caller_file()
        if any(h in file for h in WHOLE_ENV_HARMLESS):
            return
        if key not in TrackedEnviron.reads:
            value = self._data.get(self.encodekey(key))
            TrackedEnviron.reads[key] = None if value is None else self.decodevalue(value)
        TrackedEnviron.readers.setdefault(key, set()).add(file)

    def __getitem__(self, key):
        self._note(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self._note(key)
        return super().__contains__(key)

    def get(self, key, default=None):
        self._note(key)
        return super().get(key, default)

    def __iter__(self):
        if TrackedEnviron.tracking:
            file = caller_file()
            if not any(h in file for h in WHOLE_ENV_HARMLESS):
                TrackedEnviron.whole.add(file)
        return super().__iter__()


def hub_dependencies():
    """What jupyterhub.singleuser.mixins imports, read from its source (importing it would run singleuser/app.py)."""
    spec = importlib.util.find_spec('jupyterhub')
    path = os.path.join(spec.submodule_search_locations[0], 'singleuser', 'mixins.py')
    with open(path, encoding='utf-8') as f:
        tree = ast.parse(f.read())
    names = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            parts = (['jupyterhub', 'singleuser'][: 3 - node.level] if node.level else []) + [node.module or '']
            base = '.'.join(p for p in parts if p)
            names += [base] + [f'{base}.{a.name}' for a in node.names]
    return names


def app_modules(app):
    if app:
        return [app.rpartition('.')[0]]
    # the order jupyterhub.singleuser.app tries them in: the first one that imports is the application
    for name in ('jupyter_server.serverapp', 'notebook.notebookapp'):
        if importlib.util.find_spec(name.partition('.')[0]) is not None:
            return [name, 'jupyterlab.labhubapp']
    return []


def learn_modules():
    """Runs a server's set-up in a throwaway child (its application class built, then initialized for a made-up user
    in a temporary directory, on port 0, never started) and returns, in import order, the modules that added: what
    a server imports before its first answer, which no list written here could keep up with."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            signal.alarm(LEARN_SECONDS)  # a set-up that hangs ends the child, not the fork server
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            os.dup2(null, 2)
            before = set(sys.modules)
            try:
                learn_by_initializing()
            except BaseException:
                pass  # whatever it imported before failing still counts
            data = '\n'.join(m for m in sys.modules if m not in before).encode()
            while data:
                data = data[os.write(w, data):]
        finally:
            os._exit(0)
    os.close(w)
    chunks = []
    while chunk := os.read(r, 65536):
        chunks.append(chunk)
    os.close(r)
    os.waitpid(pid, 0)
    return b''.join(chunks).decode().split('\n')


def learn_by_initializing():
    import tempfile
    home = tempfile.mkdtemp(prefix='nodehub-preload-')
    os.chdir(home)
    prefix = '/user/preload/'
    os.environ.update({
        'HOME': home, 'USER': 'preload', 'JUPYTER_RUNTIME_DIR': os.path.join(home, 'runtime'),
        'JUPYTERHUB_API_TOKEN': 'preload', 'JUPYTERHUB_CLIENT_ID': 'jupyterhub-user-preload', 'JUPYTERHUB_USER': 'preload',
        'JUPYTERHUB_API_URL': 'http://127.0.0.1:9/hub/api', 'JUPYTERHUB_BASE_URL': '/', 'JUPYTERHUB_SERVICE_PREFIX': prefix,
        'JUPYTERHUB_SERVICE_URL': f'http://127.0.0.1:0{prefix}', 'JUPYTERHUB_OAUTH_CALLBACK_URL': f'{prefix}oauth_callback',
    })
    try:
        app_module = importlib.import_module('jupyterhub.singleuser.app')
        app = app_module.SingleUserNotebookApp.instance()
        app.initialize(['--allow-root'] if os.getuid() == 0 else [])
        getattr(app, 'http_server', None) and app.http_server.stop()
    finally:
        import shutil
        os.chdir('/')
        shutil.rmtree(home, ignore_errors=True)


def import_all(names):
    """Imports what can be imported; returns how many could not (names of classes, absent optional packages)."""
    missed = 0
    for name in names:
        if not name or name.startswith(NOT_PRELOADED) or name in sys.modules:
            continue
        try:
            importlib.import_module(name)
        except Exception:
            missed += 1
    return missed


def check_fork_safe():
    threads = len(os.listdir('/proc/self/task'))
    if threads != 1:
        raise RuntimeError(f'importing left {threads} threads running; a fork keeps only one')
    zmq = sys.modules.get('zmq')
    if zmq is not None and getattr(zmq.Context, '_instance', None) is not None:
        raise RuntimeError('importing created a zmq context, which a fork cannot share')
    asyncio = sys.modules.get('asyncio')
    if asyncio is not None and asyncio.events._get_running_loop() is not None:
        raise RuntimeError('importing started an event loop')


def warm(app):
    """Imports everything; returns (reads, readers, milliseconds, modules that could not be imported)."""
    t0 = time.monotonic()
    os.environ = TrackedEnviron(os.environ._data, os.environ.encodekey, os.environ.decodekey,
                                os.environ.encodevalue, os.environ.decodevalue)
    TrackedEnviron.tracking = True
    try:
        missed = import_all(hub_dependencies() + app_modules(app))
        missed += import_all(learn_modules())
    finally:
        TrackedEnviron.tracking = False
    if TrackedEnviron.whole:
        raise RuntimeError(f'modules read the whole environment at import time: {", ".join(sorted(TrackedEnviron.whole))}')
    check_fork_safe()
    gc.collect()
    gc.freeze()  # the collector then leaves these objects' pages alone, so children keep sharing them with us
    readers = {k: sorted(v) for k, v in TrackedEnviron.readers.items()}
    return dict(TrackedEnviron.reads), readers, (time.monotonic() - t0) * 1000, missed


def unfixable(env, reads, readers):
    """The first name read at import time whose value differs in `env` and that no fix-up covers, or None."""
    for key, value in reads.items():
        if env.get(key) == value:
            continue
        if not all(any(file.endswith(suffix) for (k, suffix) in FIXUPS if k == key) for file in readers[key]):
            return key
    return None


def apply_fixups():
    for fix in set(FIXUPS.values()):
        fix()
