// Curator (Debian libcurator 5.4) scenarios against one server.
// Usage: java -cp <classes>:<jars> CuratorSuite HOST:PORT
// Prints one JSON object per line: {"scenario": ..., ...} or {"scenario": ..., "error": ...}.
// Assertions live in curator.test.ts.

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;

public class CuratorSuite {
    static String hosts;
    static final List<CuratorFramework> clients = Collections.synchronizedList(new ArrayList<>());

    static CuratorFramework client() throws Exception {
        CuratorFramework c = CuratorFrameworkFactory.builder()
            .connectString(hosts).sessionTimeoutMs(10000).connectionTimeoutMs(10000)
            .retryPolicy(new RetryNTimes(20, 100)).build();
        c.start();
        if (!c.blockUntilConnected(15, TimeUnit.SECONDS)) throw new IllegalStateException("not connected");
        clients.add(c);
        return c;
    }

    // --- tiny JSON writer: values are String, Number, Boolean, null, List, or Json ---
    static final class Json {
        final StringBuilder sb = new StringBuilder("{");
        Json put(String k, Object v) {
            if (sb.length() > 1) sb.append(", ");
            sb.append(str(k)).append(": ").append(val(v));
            return this;
        }
        @Override public String toString() { return sb + "}"; }
    }
    static String str(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char ch : s.toCharArray()) {
            if (ch == '"' || ch == '\\') b.append('\\').append(ch);
            else if (ch < 0x20) b.append(String.format("\\u%04x", (int) ch));
            else b.append(ch);
        }
        return b.append('"').toString();
    }
    static String val(Object v) {
        if (v == null) return "null";
        if (v instanceof String) return str((String) v);
        if (v instanceof Number || v instanceof Boolean || v instanceof Json) return v.toString();
        if (v instanceof List) {
            StringBuilder b = new StringBuilder("[");
            for (Object o : (List<?>) v) { if (b.length() > 1) b.append(", "); b.append(val(o)); }
            return b.append(']').toString();
        }
        return str(String.valueOf(v));
    }

    interface Scenario { Json run() throws Exception; }

    static Json mutex() throws Exception {
        final int nClients = 4, rounds = 5;
        final AtomicInteger holders = new AtomicInteger(), maxHolders = new AtomicInteger(), count = new AtomicInteger();
        List<Thread> ts = new ArrayList<>();
        final ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
        for (int i = 0; i < nClients; i++) {
            final CuratorFramework c = client();
            Thread t = new Thread(() -> {
                InterProcessMutex m = new InterProcessMutex(c, "/cur/mutex");
                try {
                    for (int r = 0; r < rounds; r++) {
                        if (!m.acquire(20, TimeUnit.SECONDS)) { errors.add("acquire timeout"); return; }
                        try {
                            maxHolders.accumulateAndGet(holders.incrementAndGet(), Math::max);
                            // Reentrancy: a second acquire by the holder succeeds at once.
                            m.acquire();
                            m.release();
                            int v = count.get();
                            Thread.sleep(3);
                            count.set(v + 1);
                            holders.decrementAndGet();
                        } finally {
                            m.release();
                        }
                    }
                } catch (Exception e) {
                    errors.add(e.toString());
                }
            });
            ts.add(t);
        }
        for (Thread t : ts) t.start();
        for (Thread t : ts) t.join(60000);
        List<String> left = clients.get(0).getChildren().forPath("/cur/mutex");
        return new Json().put("count", count.get()).put("expected", nClients * rounds)
            .put("max_holders", maxHolders.get()).put("errors", new ArrayList<>(errors)).put("leftover", left);
    }

    static Json leaderLatch() throws Exception {
        List<LeaderLatch> latches = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            LeaderLatch l = new LeaderLatch(client(), "/cur/latch", "p" + i);
            l.start();
            latches.add(l);
        }
        List<Object> leadersSeen = new ArrayList<>();
        List<Object> leaderCounts = new ArrayList<>();
        for (int round = 0; round < 3; round++) {
            LeaderLatch leader = null;
            long end = System.currentTimeMillis() + 15000;
            while (leader == null && System.currentTimeMillis() < end) {
                int n = 0;
                for (LeaderLatch l : latches) if (l.hasLeadership()) { n++; leader = l; }
                if (n > 1) throw new IllegalStateException("two leaders");
                if (leader == null) Thread.sleep(20);
            }
            if (leader == null) throw new IllegalStateException("no leader in round " + round);
            Thread.sleep(100); // stable: still exactly one
            int n = 0;
            for (LeaderLatch l : latches) if (l.hasLeadership()) n++;
            leaderCounts.add(n);
            leadersSeen.add(leader.getId());
            // Every participant agrees on who leads.
            for (LeaderLatch l : latches) if (!l.getLeader().getId().equals(leader.getId())) throw new IllegalStateException("disagree");
            latches.remove(leader);
            leader.close();
        }
        return new Json().put("leaders", leadersSeen).put("leader_counts", leaderCounts);
    }

    static Json cache() throws Exception {
        CuratorFramework c = client();
        CuratorFramework w = client();
        c.create().creatingParentsIfNeeded().forPath("/cur/cache", "root".getBytes());
        final ConcurrentLinkedQueue<String> events = new ConcurrentLinkedQueue<>();
        final CountDownLatch initialized = new CountDownLatch(1);
        CuratorCache cache = CuratorCache.build(c, "/cur/cache");
        cache.listenable().addListener(CuratorCacheListener.builder()
            .forCreates(n -> events.add("create " + n.getPath() + " " + new String(n.getData())))
            .forChanges((o, n) -> events.add("change " + n.getPath() + " " + new String(o.getData()) + "->" + new String(n.getData())))
            .forDeletes(o -> events.add("delete " + o.getPath()))
            .forInitialized(initialized::countDown)
            .build());
        cache.start();
        initialized.await(10, TimeUnit.SECONDS);
        // After each write wait for its listener event (CuratorCache updates its storage first and
        // calls listeners later on another thread), so no two changes coalesce into one event and
        // the list is complete when it is read.
        w.create().forPath("/cur/cache/a", "1".getBytes());
        awaitEvent(events, "create /cur/cache/a 1");
        w.setData().forPath("/cur/cache/a", "2".getBytes());
        awaitEvent(events, "change /cur/cache/a 1->2");
        w.create().forPath("/cur/cache/a/b", "deep".getBytes());
        awaitEvent(events, "create /cur/cache/a/b deep");
        w.setData().forPath("/cur/cache/a/b", "deeper".getBytes());
        awaitEvent(events, "change /cur/cache/a/b deep->deeper");
        w.delete().forPath("/cur/cache/a/b");
        awaitEvent(events, "delete /cur/cache/a/b");
        w.delete().forPath("/cur/cache/a");
        awaitEvent(events, "delete /cur/cache/a");
        List<Object> cached = new ArrayList<>();
        cache.stream().forEach(d -> cached.add(d.getPath()));
        cache.close();
        return new Json().put("events", new ArrayList<Object>(events)).put("cached_after", cached);
    }

    static void awaitEvent(ConcurrentLinkedQueue<String> events, String event) throws InterruptedException {
        long end = System.currentTimeMillis() + 10000;
        while (System.currentTimeMillis() < end) {
            if (events.contains(event)) return;
            Thread.sleep(10);
        }
        throw new IllegalStateException("the cache listener never saw '" + event + "' (saw " + events + ")");
    }

    static Json transactions() throws Exception {
        CuratorFramework c = client();
        // creatingParentContainersIfNeeded makes the parents with createContainer (opcode 19).
        c.create().creatingParentContainersIfNeeded().forPath("/cur/txroot/tx", "t".getBytes());
        Stat parent = c.checkExists().forPath("/cur/txroot");
        CuratorOp op1 = c.transactionOp().create().forPath("/cur/txroot/tx/a", "a".getBytes());
        CuratorOp op2 = c.transactionOp().setData().withVersion(0).forPath("/cur/txroot/tx", "u".getBytes());
        CuratorOp op3 = c.transactionOp().check().withVersion(1).forPath("/cur/txroot/tx");
        CuratorOp op4 = c.transactionOp().create().withMode(CreateMode.PERSISTENT_SEQUENTIAL).forPath("/cur/txroot/tx/s-", "s".getBytes());
        CuratorOp op5 = c.transactionOp().delete().forPath("/cur/txroot/tx/a");
        List<Object> ok = new ArrayList<>();
        for (CuratorTransactionResult r : c.transaction().forOperations(op1, op2, op3, op4, op5)) {
            ok.add(new Json().put("type", r.getType().name()).put("for", r.getForPath()).put("result", r.getResultPath())
                .put("version", r.getResultStat() == null ? null : r.getResultStat().getVersion()).put("error", r.getError()));
        }
        String failure = null;
        try {
            c.transaction().forOperations(
                c.transactionOp().create().forPath("/cur/txroot/tx/never", "n".getBytes()),
                c.transactionOp().setData().withVersion(42).forPath("/cur/txroot/tx", "x".getBytes()));
        } catch (KeeperException e) {
            failure = e.code().name();
        }
        return new Json().put("ok", ok).put("failure", failure)
            .put("never_exists", c.checkExists().forPath("/cur/txroot/tx/never") != null)
            .put("data", new String(c.getData().forPath("/cur/txroot/tx")))
            .put("container_parent_owner", parent.getEphemeralOwner());
    }

    public static void main(String[] args) throws Exception {
        hosts = args[0];
        Map<String, Scenario> all = new java.util.LinkedHashMap<>();
        all.put("mutex", CuratorSuite::mutex);
        all.put("leader_latch", CuratorSuite::leaderLatch);
        all.put("cache", CuratorSuite::cache);
        all.put("transactions", CuratorSuite::transactions);
        List<String> only = java.util.Arrays.asList(args).subList(1, args.length);
        for (Map.Entry<String, Scenario> e : all.entrySet()) {
            if (!only.isEmpty() && !only.contains(e.getKey())) continue;
            long start = System.currentTimeMillis();
            Json out;
            try {
                out = e.getValue().run().put("ms", System.currentTimeMillis() - start);
            } catch (Throwable t) {
                java.io.StringWriter sw = new java.io.StringWriter();
                t.printStackTrace(new java.io.PrintWriter(sw));
                out = new Json().put("error", t.toString()).put("trace", sw.toString());
            }
            System.out.println(out.put("scenario", e.getKey()));
            System.out.flush();
        }
        for (CuratorFramework c : clients) {
            try { c.close(); } catch (Exception ignored) { }
        }
        System.exit(0);
    }
}
