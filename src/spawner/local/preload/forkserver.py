"""nodehub's fork server: preloading for jupyterhub-singleuser, or plain, the launcher of every other server
(docs/preload.md).

A jupyter-server spends most of the CPU it needs before its first answer on importing Python modules. This process
imports them once (_nodehub_warm.py), then forks one child per spawn request. Each child turns itself into the process
the hub would have started (new session, uid, gids, umask, cwd, environment, argv, stdout/stderr to the server's log)
and runs the jupyterhub-singleuser script as `python3 <script>` would. A child that cannot be exactly that (its
environment changes something that was read at import time) executes the real command instead, under the same pid.

    python3 -s forkserver.py <script> <app or ''> <names of the launch environment, comma-separated, space-padded>
    python3 -I -S forkserver.py --plain

Plain, it imports nothing of jupyter's (a small process that forks cheaply) and each child, once set up and released,
executes the requested command (found on the request's PATH before the child reports back, so a missing command is
the spawn's error): the hub's own process never forks, which would copy its whole address space and stall its event
loop for every server started.

It talks to the hub over fd 3 (a socket), one JSON object per line:
  hub -> here: <id> {"argv", "env", "cwd", "log", "uid", "gid", "groups", "umask", "cgroup", "rlimit_as"} to fork a child;
               <id> go once the hub has recorded that child's pid: only then does the child run the server
  here -> hub: {"ready": true, "pid", "modules", "ms", "reads", "readers"} (or {"ready": false, "error"}) once;
               {"id", "pid", "exact": true | reason} or {"id", "error"} per request;
               {"exit": pid, "code", "signal"} when a child ends.
  hub -> here: 0 bye when the hub stops: the server ends.
EOF on fd 3 without a goodbye (the hub was killed) ends the server, or, given a path in NODEHUB_PRELOAD_SOCKET, makes
it wait NODEHUB_PRELOAD_LINGER seconds for the hub's successor to connect there (a unix socket, 0600, only its own uid
accepted): the successor then speaks to it as to a server it started, without importing everything again while the
visitors of the outage come back. Either way its children live on, in their own sessions, except the ones still
waiting for their go-ahead: they exit, so no server runs that the hub did not record.
"""
import errno
import json
import os
import select
import signal
import socket
import struct
import sys
import time

# preloading only (set by main): the plain launcher stays free of them
warm = None
LIBC = None

CONTROL_FD = 3
REQUEST_BUFFER = 1 << 20
PR_SET_NAME = 15
PR_SET_DUMPABLE = 4
# Read by the interpreter or C libraries at start-up, not through os.environ: a child must have the server's values.
INTERPRETER_KEYS = ('LANG', 'LANGUAGE', 'LC_ALL', 'LC_CTYPE', 'LC_MESSAGES', 'SSL_CERT_FILE', 'SSL_CERT_DIR',
                    'OPENSSL_CONF', 'OPENSSL_MODULES')


def drain(fd):
    try:
        while os.read(fd, 4096):
            pass
    except BlockingIOError:
        pass


def send(obj):
    data = (json.dumps(obj) + '\n').encode()
    while data:
        data = data[os.write(CONTROL_FD, data):]


class Refused(Exception):
    """A set-up error told to the hub as it is (the same words a spawn from the hub would use)."""


def runnable(file, env):
    """The file exec will run for `file`: itself when it holds a slash, else the first executable one on the request's
    PATH (relative entries against the working directory, as the hub's own check did). Refused as spawn() words it."""
    dirs = [None] if '/' in file else env.get('PATH', '').split(':')
    code = 'ENOENT'
    for d in dirs:
        path = file if d is None else os.path.join(d or '.', file)
        if os.access(path, os.X_OK) and not os.path.isdir(path):
            return path
        if os.path.exists(path):
            code = 'EACCES'
    raise Refused(f'Could not run {json.dumps(file)}: spawn {file} {code}')


def execute(path, argv, env):
    """Becomes the command, as a fresh spawn: default signal handling (Python ignores SIGPIPE and SIGXFSZ, which an
    exec would pass on), nothing blocked. A file without #! line runs under sh, as execvp and sh do."""
    for sig in signal.valid_signals():
        if sig not in (signal.SIGKILL, signal.SIGSTOP):
            try:
                signal.signal(sig, signal.SIG_DFL)
            except (OSError, ValueError):
                pass  # reserved by the C library
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    try:
        try:
            os.execve(path, argv, env)
        except OSError as err:
            if err.errno != errno.ENOEXEC:
                raise
            os.execve('/bin/sh', ['sh', path, *argv[1:]], env)
    except OSError as err:
        os.write(2, f'nodehub: could not run {argv[0]}: {err.strerror}\n'.encode())
    os._exit(127)


class Server:
    """Forks on request. A request (a server's environment, its API token) is only ever in one buffer here, which
    is wiped once its child is forked: the next visitor's server, a copy of this process, finds nothing of it."""

    def __init__(self, script, launch_env, added_env, reads, readers, adopt_path=None, linger=0, hello=None):
        self.script = script
        self.adopt_path = adopt_path
        self.linger = linger
        self.hello = hello
        self.lingering = False
        self.launch_env = launch_env
        # what the interpreter added to its own environment at start-up (PEP 538's LC_CTYPE); a fresh one would too
        self.added_env = added_env
        self.reads = reads
        self.readers = readers
        self.buf = bytearray(REQUEST_BUFFER)
        self.filled = 0
        # forked children waiting for the hub's go-ahead: request id -> (our end of their socket pair, pid)
        self.waiting = {}
        # forked children still setting up: our end of their socket pair -> (request id, pid). Their answers are
        # read as they come, not in turn: waiting for each child to be scheduled, set up and answer before reading
        # the next request made this one process the queue of every start, ~7 a second on two saturated cores.
        self.setting_up = {}
        self.poller = None

    def serve(self):
        """Answers requests until the hub goes; returns only in a forked child, with its request."""
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_r, False)
        os.set_blocking(wake_w, False)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.set_wakeup_fd(wake_w)
        self.wake = (wake_r, wake_w)
        poller = self.poller = select.poll()
        poller.register(CONTROL_FD, select.POLLIN)
        poller.register(wake_r, select.POLLIN)
        while True:
            for fd, _ in poller.poll():
                if fd == wake_r:
                    drain(wake_r)
                elif fd == CONTROL_FD:
                    req = self.read_requests()
                    if req is not None:
                        return req
                elif fd in self.setting_up:
                    self.answered(fd)
            self.reap()

    def read_requests(self):
        if self.filled == len(self.buf):
            sys.exit('a request larger than the request buffer')
        n = os.readv(CONTROL_FD, [memoryview(self.buf)[self.filled:]])
        if n == 0:
            if self.adopt_path is None:
                sys.exit(0)  # the hub is gone; the servers we forked are not ours to stop
            self.wait_for_successor()
            return None
        self.filled += n
        start = 0
        while (nl := self.buf.find(b'\n', start, self.filled)) >= 0:
            req = self.fork(start, nl)
            if req is not None:
                return req
            self.buf[start:nl + 1] = bytes(nl + 1 - start)
            start = nl + 1
        # keep an unfinished line at the front, moved byte by byte (a slice would copy it into a temporary object)
        rest = self.filled - start
        for i in range(rest):
            self.buf[i] = self.buf[start + i]
        self.buf[rest:self.filled] = bytes(self.filled - rest)
        self.filled = rest
        return None

    def reap(self):
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            for req_id, (sock, child) in list(self.waiting.items()):
                if child == pid:
                    os.close(sock)
                    del self.waiting[req_id]
            if self.lingering:
                continue  # nobody to tell: the successor watches the servers it adopts by their pids
            send({
                'exit': pid,
                'code': os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
                'signal': os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
            })

    def fork(self, start, end):
        """Forks for the request line buf[start:end] ("<id> <json>"); returns the request in the child, None here.
        The child sets itself up and reports over a socket pair; only then does the hub learn its pid, and the
        child goes on only at the hub's go-ahead, once the hub has recorded it: no server runs that the hub's
        record does not name."""
        space = self.buf.find(b' ', start, end)
        req_id = int(self.buf[start:space])
        if self.buf[space + 1:end] == b'bye':
            sys.exit(0)
        if self.buf[space + 1:end] == b'go':
            held = self.waiting.pop(req_id, None)
            if held is not None:
                try:
                    os.write(held[0], b'g')
                except OSError:
                    pass  # it died meanwhile; its exit is reported when it is reaped
                os.close(held[0])
            return None
        ours, theirs = (s.detach() for s in socket.socketpair())
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            os.close(ours)
            req = json.loads(self.buf[space + 1:end])
            # ours, and any other request read along with it, are wiped before anything else runs here
            self.buf[start:self.filled] = bytes(self.filled - start)
            self.buf = None
            self.become(req, theirs)
            return req
        os.close(theirs)
        self.setting_up[ours] = (req_id, pid)
        self.poller.register(ours, select.POLLIN)
        return None

    def answered(self, ours):
        """A child set up (or failed to): tell the hub its pid (or its error)."""
        req_id, pid = self.setting_up.pop(ours)
        self.poller.unregister(ours)
        try:
            answer = os.read(ours, 65536).decode()
        except OSError:
            answer = ''
        if answer != 'ok' and not answer.startswith('exec '):
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass  # reaped already
            error = answer[6:] if answer.startswith('error ') else 'the child died while setting up'
            os.close(ours)
            send({'id': req_id, 'error': error})
            return
        # held until the hub's "<id> go": the hub records the pid first, and if it dies before that, our exit closes
        # this end and the child, reading EOF, exits without running anything
        self.waiting[req_id] = (ours, pid)
        send({'id': req_id, 'pid': pid, 'exact': True if answer == 'ok' else answer[5:]})

    def wait_for_successor(self):
        """The hub went without a goodbye. Until its successor connects to adopt_path no request can come: children
        waiting for a go-ahead are told no (their socket closes), the buffer is wiped, and exits are only reaped."""
        self.lingering = True
        for sock, _ in self.waiting.values():
            os.close(sock)
        self.waiting.clear()
        for sock in self.setting_up:
            self.poller.unregister(sock)
            os.close(sock)
        self.setting_up.clear()
        self.buf[:] = bytes(len(self.buf))
        self.filled = 0
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 2)  # the old hub's pipe: nobody reads it any more
        os.dup2(null, CONTROL_FD)
        os.close(null)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        umask = os.umask(0o177)
        try:
            try:
                os.unlink(self.adopt_path)
            except FileNotFoundError:
                pass
            listener.bind(self.adopt_path)
        except OSError:
            sys.exit(0)  # no place to wait at: end as without a path
        finally:
            os.umask(umask)
        ours = os.stat(self.adopt_path).st_ino

        def remove_if_ours():
            # a later fork server may have bound the same path since: its socket stays
            try:
                if os.stat(self.adopt_path).st_ino == ours:
                    os.unlink(self.adopt_path)
            except OSError:
                pass

        listener.listen(4)
        poller = select.poll()
        poller.register(listener.fileno(), select.POLLIN)
        poller.register(self.wake[0], select.POLLIN)
        deadline = time.monotonic() + self.linger
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                remove_if_ours()
                sys.exit(0)
            for fd, _ in poller.poll(left * 1000):
                if fd == self.wake[0]:
                    drain(fd)
                    continue
                conn, _ = listener.accept()
                _, uid, _ = struct.unpack('3i', conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
                if uid != os.getuid():
                    conn.close()  # only a hub of our own user may send us requests (they hold users' tokens)
                    continue
                os.dup2(conn.fileno(), CONTROL_FD)
                conn.close()
                remove_if_ours()
                listener.close()
                self.lingering = False
                send({**self.hello, 'adopted': True})
                return
            self.reap()

    def become(self, req, ctl):
        """In the child: what a plain spawn sets up, in libuv's order (session, stdio, cwd, groups, gid, uid)."""
        plain = self.script is None
        try:
            signal.set_wakeup_fd(-1)
            for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
                signal.signal(sig, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            os.setsid()
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            # opened as the hub opens it for a plain spawn: before dropping root, never through a planted symlink
            log = os.open(req['log'], os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
            os.dup2(log, 1)
            os.dup2(log, 2)
            os.chdir(req['cwd'])
            os.umask(req['umask'])
            if not plain:
                self.retitle(req['argv'][1:])
            # limits go on while this is still the hub's trusted code and the hub's uid (cgroup.procs is root's)
            try:
                for procs in req.get('cgroup') or ():
                    with open(procs, 'w') as f:
                        f.write(str(os.getpid()))
            except OSError as err:
                raise Refused(f'Could not put the server into its cgroup: {err}') from None
            if req.get('rlimit_as') is not None:
                import resource
                resource.setrlimit(resource.RLIMIT_AS, (req['rlimit_as'], req['rlimit_as']))
            if req.get('gid') is not None:
                try:
                    # a system user keeps their supplementary groups; anyone else has none (as libuv, which
                    # ignores a failure to drop them: a hub that is not root has none to give away)
                    os.setgroups(req.get('groups') or [])
                except PermissionError:
                    if req.get('groups'):
                        raise
                os.setgid(req['gid'])
            if req.get('uid') is not None:
                os.setuid(req['uid'])
                if not plain:
                    # an exec would make the process dumpable again (its user may ptrace it, read its /proc files)
                    LIBC.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
            env = req['env']
            if plain:
                # found now, as the server's user in its directory: a command that is not there fails the spawn
                self.command = runnable(req['argv'][0], env)
                inexact = None
            else:
                os.environ.clear()
                os.environ.update(env)
                os.environ.update(self.added_env)
                inexact = self.why_inexact(env)
            for fd in (null, log, *self.wake):
                os.close(fd)
            os.closerange(3, ctl)
            os.closerange(ctl + 1, os.sysconf('SC_OPEN_MAX'))
        except Refused as err:
            os.write(ctl, f'error {err}'.encode())
            os._exit(127)
        except Exception as err:
            os.write(ctl, f'error {type(err).__name__}: {err}'.encode())
            os._exit(127)
        os.write(ctl, b'ok' if inexact is None else f'exec {inexact}'.encode())
        if os.read(ctl, 1) != b'g':
            os._exit(1)  # the hub (or this server) died before the hub recorded us
        os.close(ctl)
        if plain:
            execute(self.command, req['argv'], env)
        if inexact is not None:
            os.execve(self.script, req['argv'], env)

    def retitle(self, args):
        """What ps, pgrep and /proc show: `python3 <script> <args>` and the script's name, as after an exec. The new
        command line is written over ours (the hub pads ours so there is room); /proc/<pid>/cmdline keeps the padding
        as trailing NUL bytes (shortening it takes CAP_SYS_RESOURCE)."""
        import ctypes
        LIBC.prctl(PR_SET_NAME, os.path.basename(self.script).encode()[:15], 0, 0, 0)
        with open('/proc/self/stat', 'rb') as f:
            fields = f.read().rsplit(b')', 1)[1].split()
        start, end = int(fields[45]), int(fields[46])  # arg_start, arg_end
        data = b'\0'.join(os.fsencode(a) for a in [sys.executable, self.script, *args]) + b'\0'
        data = data if len(data) <= end - start else data[:end - start - 1] + b'\0'
        ctypes.memmove(start, data + bytes(end - start - len(data)), end - start)

    def why_inexact(self, env):
        python_keys = sorted({k for k in (*env, *self.launch_env) if k.startswith('PYTHON')})
        for key in (*INTERPRETER_KEYS, *python_keys):
            if env.get(key) != self.launch_env.get(key):
                return f"{key} differs from the fork server's"
        key = warm.unfixable(env, self.reads, self.readers)
        if key is not None:
            return f'{key} was read at import time with another value'
        # The server runs with -s (homes differ per user); a fresh interpreter would add an existing user site dir.
        import site
        site.USER_BASE = site.USER_SITE = None
        user_site = site.getusersitepackages()
        enabled = 'PYTHONNOUSERSITE' not in env
        if enabled and os.path.isdir(user_site):
            return f'the user site directory {user_site} exists'
        site.ENABLE_USER_SITE = enabled
        return None

    def run(self, req):
        """The child becomes `python3 <script> <args>`, with the script as __main__."""
        import runpy
        argv = [self.script, *req['argv'][1:]]
        sys.argv[:] = argv
        sys.orig_argv[:] = [sys.executable, *argv]
        sys.path[0] = os.path.dirname(os.path.realpath(self.script))
        time.tzset()
        if 'tempfile' in sys.modules:
            sys.modules['tempfile'].tempdir = None
        warm.apply_fixups()
        del self.reads, self.readers
        runpy.run_path(self.script, run_name='__main__')


def main():
    global warm, LIBC
    if sys.argv[1:] == ['--plain']:
        send({'ready': True, 'pid': os.getpid(), 'modules': len(sys.modules), 'ms': 0})
        Server(None, {}, {}, None, None).serve()  # returns only in a child, which executes its command instead
        sys.exit('the plain fork server returned from a request')
    import ctypes
    import _nodehub_warm
    warm = _nodehub_warm
    LIBC = ctypes.CDLL(None, use_errno=True)
    script, app, names = sys.argv[1], sys.argv[2], [k for k in sys.argv[3].strip().split(',') if k]
    adopt_path = os.environ.pop('NODEHUB_PRELOAD_SOCKET', None)
    linger = float(os.environ.pop('NODEHUB_PRELOAD_LINGER', '0') or 0)
    launch_env = {k: os.environ[k] for k in names if k in os.environ}
    added_env = {k: v for k, v in os.environ.items() if k not in names}
    sys.path[0] = os.path.dirname(os.path.realpath(script))
    try:
        reads, readers, ms, missed = warm.warm(app)
    except Exception as err:
        send({'ready': False, 'error': f'{type(err).__name__}: {err}'})
        sys.exit(1)
    send({'ready': True, 'pid': os.getpid(), 'modules': len(sys.modules), 'missed': missed, 'ms': round(ms),
          'reads': reads, 'readers': readers})
    hello = {'ready': True, 'pid': os.getpid(), 'modules': len(sys.modules), 'ms': 0}
    server = Server(script, launch_env, added_env, reads, readers, adopt_path, linger, hello)
    req = server.serve()
    server.run(req)


if __name__ == '__main__':
    main()
