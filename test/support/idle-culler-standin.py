# A stand-in for jupyterhub-idle-culler (not packaged for Debian), making the same calls in the same order (hub spec 7):
# GET / for the version, GET /users?state=ready page by page with the pagination media type (following next.url
# verbatim), then DELETE the server of each user whose ready server has been idle for --timeout seconds.
# Run as a managed service: it reads JUPYTERHUB_API_URL and JUPYTERHUB_API_TOKEN, and appends what it culled to
# $CULL_LOG so a test can see it. Options: --timeout=S, --cull-every=S, --api-page-size=N.
import json
import os
import sys
import time
import urllib.parse
import urllib.request
from datetime import datetime, timezone

api = os.environ["JUPYTERHUB_API_URL"].rstrip("/")
token = os.environ["JUPYTERHUB_API_TOKEN"]
opts = dict(a[2:].split("=", 1) for a in sys.argv[1:] if a.startswith("--") and "=" in a)
timeout = float(opts.get("timeout", 600))
every = float(opts.get("cull-every", timeout / 2))
page_size = int(opts.get("api-page-size", 0))


def call(method, url, accept="application/json"):
    req = urllib.request.Request(url, method=method, headers={"Authorization": "token " + token, "Accept": accept})
    with urllib.request.urlopen(req, timeout=60) as r:
        body = r.read()
        return r.status, json.loads(body) if body else None


def ready_users():
    url = api + "/users?state=ready" + (f"&limit={page_size}" if page_size else "")
    while url:
        _, data = call("GET", url, accept="application/jupyterhub-pagination+json")
        if isinstance(data, list):
            yield from data
            return
        yield from data["items"]
        nxt = data["_pagination"]["next"]
        url = nxt["url"] if nxt else None


def parse(ts):
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def cull_once():
    _, info = call("GET", api + "/")
    assert info["version"], info
    now = datetime.now(timezone.utc)
    for user in ready_users():
        for name, server in user["servers"].items():
            if server["pending"] or not server["ready"]:
                continue
            idle = (now - parse(server["last_activity"] or server["started"])).total_seconds()
            if idle < timeout:
                continue
            quoted = urllib.parse.quote(user["name"], safe="")
            path = f"/users/{quoted}/server" if not name else f"/users/{quoted}/servers/{urllib.parse.quote(name, safe='')}"
            status, _ = call("DELETE", api + path)
            with open(os.environ["CULL_LOG"], "a") as log:
                log.write(f"{user['name']}/{name} {status} {round(idle, 1)}\n")


while True:
    cull_once()
    time.sleep(every)
