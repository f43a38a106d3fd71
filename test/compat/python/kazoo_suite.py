"""kazoo (Debian python3-kazoo 2.8) scenarios against one server.

Usage: /usr/bin/python3 kazoo_suite.py HOST:PORT
Prints one JSON object per line: {"scenario": name, ...results} or {"scenario": name, "error": ...}.
The jest side (kazoo.test.ts) asserts on these results. Scenarios use disjoint paths.
"""
import json
import sys
import threading
import time
import traceback

from kazoo.client import KazooClient
from kazoo.exceptions import (BadVersionError, NoAuthError, NodeExistsError, NoNodeError,
                              NotEmptyError, RolledBackError)
from kazoo.protocol.states import KazooState
from kazoo.security import ACL, Id, make_digest_acl

HOSTS = sys.argv[1]
clients = []


def client(**kw):
    c = KazooClient(hosts=HOSTS, timeout=10, **kw)
    c.start(timeout=15)
    clients.append(c)
    return c


def wait_until(pred, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.02)
    return pred()


def stat_dict(s):
    return {k: getattr(s, k) for k in ("czxid", "mzxid", "pzxid", "ctime", "mtime", "version", "cversion",
                                       "aversion", "ephemeralOwner", "dataLength", "numChildren")}


def err_name(e):
    return type(e).__name__ if e is not None else None


def crud():
    zk = client()
    out = {}
    out["create"] = zk.create("/k/crud", b"v0", makepath=True)
    try:
        zk.create("/k/crud", b"again")
    except NodeExistsError as e:
        out["create_again"] = err_name(e)
    data, st = zk.get("/k/crud")
    out["get"] = data.decode()
    out["stat"] = stat_dict(st)
    out["set"] = stat_dict(zk.set("/k/crud", b"v1", version=0))
    try:
        zk.set("/k/crud", b"x", version=0)
    except BadVersionError as e:
        out["set_bad_version"] = err_name(e)
    zk.create("/k/crud/c1")
    try:
        zk.delete("/k/crud")
    except NotEmptyError as e:
        out["delete_not_empty"] = err_name(e)
    out["children"] = sorted(zk.get_children("/k/crud"))
    zk.delete("/k/crud", recursive=True)
    out["exists_after"] = zk.exists("/k/crud")
    try:
        zk.get("/k/crud")
    except NoNodeError as e:
        out["get_missing"] = err_name(e)
    out["server_version"] = list(zk.server_version())
    out["ruok"] = zk.command(b"ruok").strip()
    return out


def ephemeral_sequential():
    zk = client()
    other = client()
    zk.ensure_path("/k/seq")
    paths = [zk.create("/k/seq/n-", b"", sequence=True) for _ in range(3)]
    eph = other.create("/k/seq/e-", b"", ephemeral=True, sequence=True)
    st = zk.exists(eph)
    owner_ok = st.ephemeralOwner == other.client_id[0]
    other.stop()
    other.close()
    gone = wait_until(lambda: zk.exists(eph) is None, 5)
    return {"paths": paths, "ephemeral": eph, "owner_is_session": owner_ok, "gone_after_close": gone}


def transactions():
    zk = client()
    zk.ensure_path("/k/tx")
    t = zk.transaction()
    t.create("/k/tx/a", b"a")
    t.set_data("/k/tx", b"parent", version=0)
    t.check("/k/tx", 1)
    t.create("/k/tx/b", b"b")
    ok = t.commit()
    t = zk.transaction()
    t.create("/k/tx/c", b"c")
    t.set_data("/k/tx/a", b"x", version=7)
    t.delete("/k/tx/b")
    bad = t.commit()
    return {
        "ok": [r if isinstance(r, str) else err_name(r) if isinstance(r, Exception) else type(r).__name__ for r in ok],
        "bad": [err_name(r) if isinstance(r, Exception) else repr(r) for r in bad],
        "c_exists": zk.exists("/k/tx/c") is not None,
        "b_exists": zk.exists("/k/tx/b") is not None,
        "parent": zk.get("/k/tx")[0].decode(),
    }


def watches():
    zk = client()
    writer = client()
    zk.ensure_path("/k/w")
    events = []
    cond = threading.Event()

    def one_shot(ev):
        events.append([ev.type, ev.path, ev.state])
        cond.set()

    zk.get("/k/w", watch=one_shot)
    writer.set("/k/w", b"1")
    cond.wait(5)
    writer.set("/k/w", b"2")  # must not fire again
    zk.exists("/k/w/new", watch=one_shot)
    writer.create("/k/w/new")
    zk.get_children("/k/w", watch=one_shot)
    writer.delete("/k/w/new")
    zk.exists("/k/w", watch=one_shot)
    writer.delete("/k/w")
    wait_until(lambda: len(events) >= 4, 5)
    time.sleep(0.2)

    dw = []
    writer.ensure_path("/k/dw")
    zk.DataWatch("/k/dw", lambda data, stat, event=None: dw.append(
        [data.decode() if data is not None else None, event.type if event else None]))
    writer.set("/k/dw", b"a")
    wait_until(lambda: len(dw) >= 2, 5)
    writer.set("/k/dw", b"b")
    wait_until(lambda: len(dw) >= 3, 5)
    writer.delete("/k/dw")
    wait_until(lambda: len(dw) >= 4, 5)

    cw = []
    writer.ensure_path("/k/cw")
    zk.ChildrenWatch("/k/cw", lambda children: cw.append(sorted(children)))
    writer.create("/k/cw/x")
    wait_until(lambda: len(cw) >= 2, 5)
    writer.create("/k/cw/y")
    wait_until(lambda: len(cw) >= 3, 5)
    time.sleep(0.2)
    return {"events": events, "datawatch": dw, "childrenwatch": cw}


def acl_auth():
    zk = client()
    acl = make_digest_acl("carol", "pw", all=True)
    zk.create("/k/acl", b"secret", acl=[acl], makepath=True)
    anon = client()
    out = {}
    try:
        anon.get("/k/acl")
    except NoAuthError as e:
        out["anon_get"] = err_name(e)
    authed = client(auth_data=[("digest", "carol:pw")])
    out["authed_get"] = authed.get("/k/acl")[0].decode()
    acls, _ = authed.get_acls("/k/acl")
    out["acls"] = [[a.perms, a.id.scheme, a.id.id] for a in acls]
    late = client()
    late.add_auth("digest", "carol:pw")
    out["late_auth_get"] = late.get("/k/acl")[0].decode()
    # scheme "auth" with an empty id: kazoo writes the empty string as a null ustring.
    late.create("/k/acl-auth", b"", acl=[ACL(31, Id("auth", ""))])
    acls2, _ = late.get_acls("/k/acl-auth")
    out["auth_scheme_acls"] = [[a.perms, a.id.scheme, a.id.id] for a in acls2]
    return out


def session():
    states = []
    zk = KazooClient(hosts=HOSTS, timeout=1)  # asks for 1 s; server clamps to >= 2 x tickTime
    zk.add_listener(lambda s: states.append(s))
    zk.start(timeout=15)
    clients.append(zk)
    zk.create("/k/sess-eph", b"", ephemeral=True, makepath=True)
    sid, pw = zk.client_id
    # Steal the session with a second connection and close it: the session ends, and the first
    # client must learn that its session is gone (LOST).
    thief = KazooClient(hosts=HOSTS, client_id=(sid, pw), timeout=10)
    thief.start(timeout=15)
    same = thief.client_id[0] == sid
    thief.stop()
    thief.close()
    lost = wait_until(lambda: KazooState.LOST in states, 15)
    checker = client()
    return {"same_session": same, "lost": lost,
            "states": [str(s) for s in states], "ephemeral_gone": checker.exists("/k/sess-eph") is None}


def lock():
    n_clients, rounds = 4, 5
    zks = [client() for _ in range(n_clients)]
    zks[0].ensure_path("/k/lockcount")
    zks[0].set("/k/lockcount", b"0")
    holders = [0]
    max_holders = [0]
    guard = threading.Lock()

    def worker(zk, ident):
        lk = zk.Lock("/k/lock", ident)
        for _ in range(rounds):
            with lk:
                with guard:
                    holders[0] += 1
                    max_holders[0] = max(max_holders[0], holders[0])
                v = int(zk.get("/k/lockcount")[0])
                time.sleep(0.005)
                zk.set("/k/lockcount", str(v + 1).encode())
                with guard:
                    holders[0] -= 1

    ts = [threading.Thread(target=worker, args=(z, "w%d" % i)) for i, z in enumerate(zks)]
    [t.start() for t in ts]
    [t.join(60) for t in ts]
    return {"count": int(zks[0].get("/k/lockcount")[0]), "expected": n_clients * rounds, "max_holders": max_holders[0],
            "leftover": zks[0].get_children("/k/lock")}


def election():
    zks = [client() for _ in range(3)]
    leaders = []
    active = [0]
    max_active = [0]
    guard = threading.Lock()
    release = {i: threading.Event() for i in range(3)}

    def run(i):
        def lead():
            with guard:
                active[0] += 1
                max_active[0] = max(max_active[0], active[0])
                leaders.append(i)
            release[i].wait(10)
            with guard:
                active[0] -= 1
        zks[i].Election("/k/election", "c%d" % i).run(lead)

    ts = [threading.Thread(target=run, args=(i,)) for i in range(3)]
    [t.start() for t in ts]
    # Each leader holds office until released; the next contender must take over, one at a time.
    for rnd in range(3):
        wait_until(lambda r=rnd: len(leaders) > r, 10)
        time.sleep(0.05)
        release[leaders[-1]].set()
    [t.join(15) for t in ts]
    return {"leaders": sorted(leaders), "max_active": max_active[0]}


def queues():
    zk = client()
    q = zk.Queue("/k/queue")
    for item in (b"one", b"two", b"three"):
        q.put(item)
    q.put(b"urgent", priority=10)
    q.put(b"first", priority=1)
    got = [q.get().decode() for _ in range(5)]
    lq = zk.LockingQueue("/k/lqueue")
    lq.put(b"a")
    lq.put_all([b"b", b"c"])
    taken = []
    for _ in range(3):
        taken.append(lq.get(5).decode())
        lq.consume()
    return {"queue": got, "queue_len_after": len(q), "locking": taken, "locking_len_after": len(lq)}


def counter():
    zks = [client() for _ in range(3)]
    cs = [z.Counter("/k/counter") for z in zks]

    def bump(c):
        for _ in range(10):
            c += 1

    ts = [threading.Thread(target=bump, args=(c,)) for c in cs]
    [t.start() for t in ts]
    [t.join(30) for t in ts]
    fc = zks[0].Counter("/k/fcounter", default=0.0)
    fc += 2.5
    fc -= 1.0
    return {"value": zks[0].Counter("/k/counter").value, "float": fc.value}


def barriers():
    zk = client()
    b = zk.Barrier("/k/barrier")
    b.create()
    released = []
    t = threading.Thread(target=lambda: released.append(b.wait(10)))
    t.start()
    time.sleep(0.3)
    waiting = t.is_alive()
    b.remove()
    t.join(10)
    zks = [client() for _ in range(3)]
    order = []
    guard = threading.Lock()

    def participant(i):
        db = zks[i].DoubleBarrier("/k/dbarrier", 3, identifier="p%d" % i)
        db.enter()
        with guard:
            order.append("in")
        time.sleep(0.1)
        db.leave()
        with guard:
            order.append("out")

    ts = [threading.Thread(target=participant, args=(i,)) for i in range(3)]
    [x.start() for x in ts]
    [x.join(30) for x in ts]
    return {"blocked_before_remove": waiting, "released": released, "double": order}


SCENARIOS = [crud, ephemeral_sequential, transactions, watches, acl_auth, session, lock, election, queues,
             counter, barriers]

if __name__ == "__main__":
    only = set(sys.argv[2:])
    for fn in SCENARIOS:
        if only and fn.__name__ not in only:
            continue
        start = time.time()
        try:
            res = fn()
            res["ms"] = int((time.time() - start) * 1000)
            res["scenario"] = fn.__name__
        except Exception as e:  # reported, asserted as failure on the jest side
            res = {"scenario": fn.__name__, "error": "%s: %s" % (type(e).__name__, e), "trace": traceback.format_exc()}
        print(json.dumps(res, default=str), flush=True)
    for c in clients:
        try:
            c.stop()
            c.close()
        except Exception:
            pass
