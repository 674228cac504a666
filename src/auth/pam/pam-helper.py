# nodehub's bridge to PAM: one request as JSON on stdin, one answer as JSON on stdout. It uses pamela, the binding
# JupyterHub's PAMAuthenticator uses (Debian: python3-pamela), so PAM sees the same calls. The password arrives only on
# stdin, never on a command line or in the environment, and is never written anywhere.
import json
import sys

try:
    import pamela
except Exception as e:  # noqa: BLE001 - any import failure means the same thing to the hub
    print(json.dumps({"ok": False, "unavailable": True, "error": f"pamela is not importable: {e}"}))
    sys.exit(0)


def main():
    req = json.loads(sys.stdin.readline())
    op, user = req["op"], req["user"]
    kw = {"service": req["service"], "encoding": req["encoding"]}
    try:
        if op == "authenticate":
            pamela.authenticate(user, req["password"], **kw)
            if req.get("check_account"):
                pamela.check_account(user, **kw)
        elif op == "open_session":
            pamela.open_session(user, **kw)
        elif op == "close_session":
            pamela.close_session(user, **kw)
        else:
            raise ValueError(f"unknown op {op!r}")
    except pamela.PAMError as e:
        print(json.dumps({"ok": False, "error": str(e)}))
        return
    print(json.dumps({"ok": True}))


main()
