"""kazoo (Debian python3-kazoo 2.8) over TLS against one server's secure client port, or against a
client.portUnification port, where a plaintext kazoo must work too.

Usage: /usr/bin/python3 kazoo_tls.py HOST:PORT CA_PEM CLIENT_CERT CLIENT_KEY X509_SUBJECT [NODE [unified]]
Prints one JSON object per line; test/compat/tls.test.ts asserts on them.
"""
import json
import sys
import traceback

from kazoo.client import KazooClient
from kazoo.exceptions import NoAuthError
from kazoo.security import ACL, Id

HOSTS, CA, CERT, KEY, SUBJECT = sys.argv[1:6]
NODE = sys.argv[6] if len(sys.argv) > 6 else "/kazoo-tls"
UNIFIED = len(sys.argv) > 7 and sys.argv[7] == "unified"


def run(name, fn):
    try:
        out = fn()
        out["scenario"] = name
    except Exception as e:  # noqa: BLE001 - reported to the jest side
        out = {"scenario": name, "error": repr(e), "trace": traceback.format_exc()}
    print(json.dumps(out), flush=True)


def client(**kw):
    c = KazooClient(hosts=HOSTS, timeout=10, use_ssl=True, ca=CA, **kw)
    c.start(timeout=15)
    return c


def with_cert():
    c = client(certfile=CERT, keyfile=KEY)
    try:
        acl = [ACL(31, Id("x509", SUBJECT))]
        c.create(NODE, b"over tls", acl=acl)
        data, stat = c.get(NODE)
        acls, _ = c.get_acls(NODE)
        return {"data": data.decode(), "version": stat.version, "acl": ["%s:%s:%d" % (a.id.scheme, a.id.id, a.perms) for a in acls]}
    finally:
        c.stop()
        c.close()


def without_cert():
    c = client()
    try:
        try:
            c.get(NODE)
            read = "read"
        except NoAuthError:
            read = "NoAuthError"
        c.create(NODE + "-open", b"x")
        return {"read_protected": read, "create_open": c.exists(NODE + "-open") is not None}
    finally:
        c.stop()
        c.close()


def plaintext():
    c = KazooClient(hosts=HOSTS, timeout=10)
    c.start(timeout=15)
    try:
        data, _ = c.get(NODE + "-open")
        return {"data": data.decode()}
    finally:
        c.stop()
        c.close()


run("with_cert", with_cert)
run("without_cert", without_cert)
if UNIFIED:
    run("plaintext", plaintext)
