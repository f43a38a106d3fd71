"""kazoo (Debian python3-kazoo 2.8, pure-sasl) with SASL DIGEST-MD5 against one server whose JAAS
Server section has user bob.

Usage: /usr/bin/python3 kazoo_sasl.py HOST:PORT NODE
Prints one JSON object per line; test/compat/sasl.test.ts asserts on them.
"""
import json
import sys
import traceback

from kazoo.client import KazooClient
from kazoo.exceptions import NoAuthError
from kazoo.security import ACL, Id

HOSTS, NODE = sys.argv[1:3]


def run(name, fn):
    try:
        out = fn()
        out["scenario"] = name
    except Exception as e:  # noqa: BLE001 - reported to the jest side
        out = {"scenario": name, "error": repr(e), "trace": traceback.format_exc()}
    print(json.dumps(out), flush=True)


def client(password=None):
    sasl = {"mechanism": "DIGEST-MD5", "username": "bob", "password": password} if password else None
    c = KazooClient(hosts=HOSTS, timeout=10, sasl_options=sasl, connection_retry={"max_tries": 0})
    c.start(timeout=15)
    return c


def login():
    c = client("bobsecret")
    try:
        c.create(NODE, b"kazoo", acl=[ACL(31, Id("sasl", "bob"))])
        data, _ = c.get(NODE)
        acls, _ = c.get_acls(NODE)
        return {"data": data.decode(), "acl": ["%s:%s:%d" % (a.id.scheme, a.id.id, a.perms) for a in acls]}
    finally:
        c.stop()
        c.close()


def anonymous():
    c = client()
    try:
        try:
            c.get(NODE)
            return {"read": "read"}
        except NoAuthError:
            return {"read": "NoAuthError"}
    finally:
        c.stop()
        c.close()


def wrong_password():
    try:
        c = client("guess")
    except Exception as e:  # noqa: BLE001 - the outcome is what we report
        return {"start": type(e).__name__}
    try:
        try:
            c.get(NODE)
            return {"start": "connected", "read": "read"}
        except Exception as e:  # noqa: BLE001
            return {"start": "connected", "read": type(e).__name__}
    finally:
        c.stop()
        c.close()


run("login", login)
run("anonymous", anonymous)
run("wrong_password", wrong_password)
