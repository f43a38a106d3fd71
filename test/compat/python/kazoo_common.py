"""What the kazoo compat scripts share: one JSON line per scenario, and how a read came out."""
import json
import traceback

from kazoo.exceptions import NoAuthError


def run(name, fn):
    """Runs one scenario and prints its result (or its error) as one JSON line for the jest side."""
    try:
        out = fn()
        out["scenario"] = name
    except Exception as e:  # noqa: BLE001 - reported to the jest side
        out = {"scenario": name, "error": repr(e), "trace": traceback.format_exc()}
    print(json.dumps(out), flush=True)


def read_outcome(c, path):
    """'read' if the client may read the node, 'NoAuthError' if its ACL refuses."""
    try:
        c.get(path)
        return "read"
    except NoAuthError:
        return "NoAuthError"


def stopped(c, fn):
    """fn(c), then the client stopped and closed whatever happened."""
    try:
        return fn(c)
    finally:
        c.stop()
        c.close()


def acl_strings(c, path):
    """The node's ACL as scheme:id:perms strings."""
    acls, _ = c.get_acls(path)
    return ["%s:%s:%d" % (a.id.scheme, a.id.id, a.perms) for a in acls]
