# nodehub's reader of a jupyterhub_config.py: runs the file once against a `c` that records what it assigns, then
# writes the result as JSON on a file descriptor of its own (argv[2]), so the config's print() calls cannot corrupt it.
# It imports no traitlets, so it works without JupyterHub installed. Usage: python3 -B runner.py CONFIG_FILE FD
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# The stand-in `jupyterhub` package goes first on sys.path even when the real JupyterHub is installed: importing the
# real one costs about a second and pulls in tornado, sqlalchemy and its logging set-up, and the classes a config
# names are only ever turned into their class path here. A config importing a jupyterhub module the stand-in lacks
# (`jupyterhub.utils`, ...) still gets the real one: the stand-in package's __path__ ends with the real package's.
sys.path[0] = os.path.join(HERE, "stand-in")

CONFIG_MODULE = "__config__"  # __name__ in the config's namespace, so classes it defines can be told apart
config_files = set()


def assigned_where():
    """(file, line) of the innermost config-file frame on the stack: the line that made this assignment."""
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename in config_files:
            return (frame.f_code.co_filename, frame.f_lineno)
        frame = frame.f_back
    return None


class Lazy:
    """traitlets' LazyConfigValue: container edits (`c.A.b.append(x)`) to a trait the file never assigned, applied by
    nodehub to the trait's default."""

    def __init__(self):
        self.extend_ = []
        self.prepend_ = []
        self.inserts = []
        self.update_ = None

    def is_empty(self):
        return not (self.extend_ or self.prepend_ or self.inserts or self.update_ is not None)

    def append(self, obj):
        self.extend_.append(obj)

    def extend(self, other):
        self.extend_.extend(other)

    def prepend(self, other):
        self.prepend_[:0] = other

    def insert(self, index, other):
        self.inserts.append([index, other])

    def update(self, other):
        if self.update_ is None:
            self.update_ = {} if isinstance(other, dict) else set()
        self.update_.update(other)

    def add(self, obj):
        self.update({obj})

    def __setitem__(self, key, value):
        if self.update_ is None:
            self.update_ = {}
        self.update_[key] = value

    def __repr__(self):
        return "<LazyConfigValue>"


class Config:
    """`c` and its sections: `c.Class` is a section made on first use; in a section, `c.Class.trait` reads back what
    was assigned, or a Lazy value for container edits, as traitlets' Config does."""

    def __init__(self):
        object.__setattr__(self, "_values", {})
        object.__setattr__(self, "_lines", {})

    def _get(self, key):
        if key in self._values:
            return self._values[key]
        if key.startswith("_"):
            raise AttributeError(key)
        value = Config() if key[:1].isupper() else Lazy()
        self._values[key] = value
        self._lines[key] = assigned_where()
        return value

    def _set(self, key, value):
        self._values[key] = value
        self._lines[key] = assigned_where()

    __getattr__ = _get
    __getitem__ = _get

    def __setattr__(self, key, value):
        self._set(key, value)

    def __setitem__(self, key, value):
        self._set(key, value)

    def __contains__(self, key):
        return key in self._values

    def __iter__(self):
        return iter(self._values)

    def keys(self):
        return self._values.keys()

    def get(self, key, default=None):
        return self._values.get(key, default)

    def update(self, other=(), **kw):
        for key, value in dict(other, **kw).items():
            self._set(key, value)

    def __repr__(self):
        return "Config(%r)" % (self._values,)


class Uncarried(Exception):
    def __init__(self, key, what):
        super().__init__(key)
        self.key = key
        self.what = what


def carry(value, key):
    """The JSON form of a config value, or Uncarried naming the first part JSON (and so nodehub) cannot hold."""
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise Uncarried(key, "the number %r" % value)
        return value
    if isinstance(value, Config):
        return {k: carry(v, "%s.%s" % (key, k)) for k, v in value._values.items()}
    if isinstance(value, Lazy):
        ops = {}
        if value.extend_:
            ops["extend"] = carry(value.extend_, key)
        if value.prepend_:
            ops["prepend"] = carry(value.prepend_, key)
        if value.inserts:
            ops["inserts"] = carry(value.inserts, key)
        if value.update_ is not None:
            ops["update"] = carry(value.update_, key)
            ops["updateKind"] = "dict" if isinstance(value.update_, dict) else "set"
        return {"__nodehub_lazy__": ops}
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise Uncarried(key, "a mapping with the non-string key %r" % (k,))
            out[k] = carry(v, "%s.%s" % (key, k))
        return out
    if isinstance(value, (list, tuple)):
        return [carry(v, "%s[%d]" % (key, i)) for i, v in enumerate(value)]
    if isinstance(value, (set, frozenset)):
        items = list(value)
        try:
            items.sort()  # a set has no order; sorting keeps the result the same from one run to the next
        except TypeError:
            pass
        return [carry(v, "%s[%d]" % (key, i)) for i, v in enumerate(items)]
    if isinstance(value, type):
        if value.__module__ == CONFIG_MODULE:
            raise Uncarried(key, "the class %s, defined in the config file" % value.__qualname__)
        return "%s.%s" % (value.__module__, value.__qualname__)
    if callable(value):
        name = getattr(value, "__qualname__", None) or type(value).__name__
        raise Uncarried(key, "the function %s" % name if name != "<lambda>" else "a lambda function")
    raise Uncarried(key, "a %s object" % type(value).__name__)


def carry_config(c):
    """Every section's traits as JSON, and the line each was assigned on."""
    out, lines = {}, {}
    for section, traits in c._values.items():
        where = c._lines.get(section)
        if not isinstance(traits, Config):
            lines[section] = where
            out[section] = carry(traits, section)
            continue
        for trait, value in traits._values.items():
            if isinstance(value, Lazy) and value.is_empty():
                continue  # only read (`print(c.Spawner.cmd)`, hasattr), never set
            key = "%s.%s" % (section, trait)
            lines[key] = traits._lines.get(trait) or where
            try:
                out.setdefault(section, {})[trait] = carry(value, key)
            except Uncarried as err:
                err.where = lines[key]
                raise
    return out, lines


def run_file(path, c):
    path = os.path.abspath(path)
    config_files.add(path)
    with open(path, "rb") as f:
        code = compile(f.read(), path, "exec")

    def load_subconfig(fname, path=None):
        # As traitlets: relative to this file's folder, and a missing file is read as an empty one.
        full = os.path.join(path or os.path.dirname(code.co_filename), fname)
        if not os.path.isfile(full):
            print("load_subconfig: %s not found, skipped" % full, file=sys.stderr)
            return
        run_file(full, c)

    namespace = {
        "__name__": CONFIG_MODULE,
        "__file__": path,
        "__builtins__": __builtins__,
        "c": c,
        "get_config": lambda: c,
        "load_subconfig": load_subconfig,
    }
    exec(code, namespace)


def error_site(err):
    """The config file and line an exception came from: the innermost frame in a config file."""
    if isinstance(err, SyntaxError) and err.filename in config_files:
        return err.filename, err.lineno
    site = (None, None)
    tb = err.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename in config_files:
            site = (tb.tb_frame.f_code.co_filename, tb.tb_lineno)
        tb = tb.tb_next
    return site


def main():
    path, fd = sys.argv[1], int(sys.argv[2])
    out = os.fdopen(fd, "w", encoding="utf-8")
    os.set_inheritable(fd, False)  # processes the config starts must not hold the result pipe open
    c = Config()
    try:
        run_file(path, c)
        result, lines = carry_config(c)
        reply = {"config": result, "lines": lines}
    except Uncarried as err:
        where = getattr(err, "where", None) or (None, None)
        reply = {"unsupported": {"key": err.key, "what": err.what, "file": where[0], "line": where[1]}}
    except BaseException as err:  # SystemExit and KeyboardInterrupt from a config are its errors too
        import traceback

        file, line = error_site(err)
        message = err.msg if isinstance(err, SyntaxError) else str(err)
        reply = {
            "error": {
                "type": type(err).__name__,
                "message": message,
                "file": file,
                "line": line,
                "traceback": "".join(traceback.format_exception(err)),
            }
        }
    sys.stdout.flush()
    sys.stderr.flush()
    json.dump(reply, out)
    out.close()


main()
