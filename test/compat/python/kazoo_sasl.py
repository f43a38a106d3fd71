"""kazoo (Debian python3-kazoo 2.8, pure-sasl) with SASL DIGEST-MD5 against one server whose JAAS
Server section has user bob.

Usage: /usr/bin/python3 kazoo_sasl.py HOST:PORT NODE
Prints one JSON object per line; test/compat/sasl.test.ts asserts on them.
"""
import sys

from kazoo.client import KazooClient
from kazoo.security import ACL, Id

from kazoo_common import acl_strings, read_outcome, run, stopped

HOSTS, NODE = sys.argv[1:3]


def client(password=None):
    sasl = {"mechanism": "DIGEST-MD5", "username": "bob", "password": password} if password else None
    c = KazooClient(hosts=HOSTS, timeout=10, sasl_options=sasl, connection_retry={"max_tries": 0})
    c.start(timeout=15)
    return c


def login():
    def body(c):
        c.create(NODE, b"kazoo", acl=[ACL(31, Id("sasl", "bob"))])
        data, _ = c.get(NODE)
        return {"data": data.decode(), "acl": acl_strings(c, NODE)}
    return stopped(client("bobsecret"), body)


def anonymous():
    return stopped(client(), lambda c: {"read": read_outcome(c, NODE)})


def wrong_password():
    """kazoo's start() returns once the session is AUTH_FAILED; what happens to a request then."""
    try:
        c = client("guess")
    except Exception as e:  # noqa: BLE001 - the outcome is what we report
        return {"start": type(e).__name__}

    def body(c):
        try:
            c.get(NODE)
            return {"start": "connected", "read": "read"}
        except Exception as e:  # noqa: BLE001
            return {"start": "connected", "read": type(e).__name__}
    return stopped(c, body)


run("login", login)
run("anonymous", anonymous)
run("wrong_password", wrong_password)
