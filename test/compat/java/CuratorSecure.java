// Curator (Debian libcurator 5.4) on a secured client port, configured as users do: the ZooKeeper
// client inside Curator takes TLS (zookeeper.client.secure, zookeeper.clientCnxnSocket, zookeeper.ssl.*)
// and SASL (java.security.auth.login.config with a JAAS Client section) from system properties.
// Usage: java -D... -cp <classes>:<jars> CuratorSecure HOST:PORT PATH ACL_SCHEME ACL_ID
// Prints one JSON line (CuratorSuite's writer): whoami ids, the node created under an ACL naming the
// client's own identity, read back with its ACL, and an InterProcessMutex taken and released.

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.ClientInfo;
import org.apache.zookeeper.data.Id;

public class CuratorSecure {
    public static void main(String[] args) throws Exception {
        String path = args[1];
        CuratorSuite.Json out = new CuratorSuite.Json().put("scenario", "secure");
        CuratorFramework c = CuratorFrameworkFactory.builder()
            .connectString(args[0]).sessionTimeoutMs(10000).connectionTimeoutMs(20000)
            .retryPolicy(new RetryNTimes(20, 100)).build();
        try {
            c.start();
            if (!c.blockUntilConnected(30, TimeUnit.SECONDS)) throw new IllegalStateException("not connected within 30 s");
            List<String> ids = new ArrayList<>();
            for (ClientInfo i : c.getZookeeperClient().getZooKeeper().whoAmI()) ids.add(i.getAuthScheme() + ":" + i.getUser());
            Collections.sort(ids);
            List<ACL> mine = Collections.singletonList(new ACL(ZooDefs.Perms.ALL, new Id(args[2], args[3])));
            c.create().withACL(mine).forPath(path, "curator".getBytes("UTF-8"));
            String data = new String(c.getData().forPath(path), "UTF-8");
            List<String> acl = new ArrayList<>();
            for (ACL a : c.getACL().forPath(path)) acl.add(a.getId().getScheme() + ":" + a.getId().getId() + ":" + a.getPerms());
            InterProcessMutex m = new InterProcessMutex(c, path + "-lock");
            boolean acquired = m.acquire(20, TimeUnit.SECONDS);
            if (acquired) m.release();
            out.put("ids", ids).put("data", data).put("acl", acl).put("mutex", acquired)
                .put("lock_children", c.getChildren().forPath(path + "-lock"));
        } catch (Exception e) {
            out.put("error", e.toString());
        } finally {
            c.close();
        }
        System.out.println(out);
        System.exit(0);
    }
}
