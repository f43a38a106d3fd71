"""kazoo (Debian python3-kazoo 2.8) over TLS against one server's secure client port, or against a
client.portUnification port, where a plaintext kazoo must work too.

Usage: /usr/bin/python3 kazoo_tls.py HOST:PORT CA_PEM CLIENT_CERT CLIENT_KEY X509_SUBJECT [NODE [unified]]
Prints one JSON object per line; test/compat/tls.test.ts asserts on them.
"""
import sys

from kazoo.client import KazooClient
from kazoo.security import ACL, Id

from kazoo_common import acl_strings, read_outcome, run, stopped

HOSTS, CA, CERT, KEY, SUBJECT = sys.argv[1:6]
NODE = sys.argv[6] if len(sys.argv) > 6 else "/kazoo-tls"
UNIFIED = len(sys.argv) > 7 and sys.argv[7] == "unified"


def client(**kw):
    c = KazooClient(hosts=HOSTS, timeout=10, use_ssl=True, ca=CA, **kw)
    c.start(timeout=15)
    return c


def with_cert():
    def body(c):
        c.create(NODE, b"over tls", acl=[ACL(31, Id("x509", SUBJECT))])
        data, stat = c.get(NODE)
        return {"data": data.decode(), "version": stat.version, "acl": acl_strings(c, NODE)}
    return stopped(client(certfile=CERT, keyfile=KEY), body)


def without_cert():
    def body(c):
        read = read_outcome(c, NODE)
        c.create(NODE + "-open", b"x")
        return {"read_protected": read, "create_open": c.exists(NODE + "-open") is not None}
    return stopped(client(), body)


def plaintext():
    c = KazooClient(hosts=HOSTS, timeout=10)
    c.start(timeout=15)
    return stopped(c, lambda c: {"data": c.get(NODE + "-open")[0].decode()})


run("with_cert", with_cert)
run("without_cert", without_cert)
if UNIFIED:
    run("plaintext", plaintext)
