"""A server that makes jupyterhub-singleuser's start-up version probe when asked, for test/singleuser-version.test.ts.

It binds where JUPYTERHUB_SERVICE_URL says and answers every GET with the X-JupyterHub-Version given in
PROBER_REPORT_VERSION (what a singleuser of that version would answer the hub's readiness check with). Only
GET <prefix>probe makes the request a singleuser makes as it starts: `GET $JUPYTERHUB_API_URL`, no token, no cookie,
from this process; it returns {"header": <X-JupyterHub-Version>, "body": <the "version" field>}.
"""
import json
import os
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer

API = os.environ["JUPYTERHUB_API_URL"]
PREFIX = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/")
BIND = urllib.parse.urlparse(os.environ["JUPYTERHUB_SERVICE_URL"])


def probe():
    with urllib.request.urlopen(API, timeout=30) as r:
        return {"header": r.headers["X-JupyterHub-Version"], "body": json.load(r)["version"]}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps(probe() if self.path == PREFIX + "probe" else {}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-JupyterHub-Version", os.environ.get("PROBER_REPORT_VERSION", ""))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


HTTPServer((BIND.hostname, BIND.port), Handler).serve_forever()
