import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.retry.RetryNTimes;

/**
 * Takes Curator's InterProcessMutex `rounds` times on the given path, holding it `holdMs` each time,
 * and prints one JSON line per acquire/release with the wall-clock time, so a test can check that
 * it never overlaps with another process holding a lock on the same path (our TS Mutex).
 */
public class CuratorLockLoop {
  public static void main(String[] args) throws Exception {
    String connect = args[0];
    String path = args[1];
    int rounds = Integer.parseInt(args[2]);
    long holdMs = Long.parseLong(args[3]);
    CuratorFramework client = CuratorFrameworkFactory.newClient(connect, 10000, 5000, new RetryNTimes(10, 200));
    client.start();
    client.blockUntilConnected();
    InterProcessMutex mutex = new InterProcessMutex(client, path);
    System.out.println("{\"event\":\"ready\",\"t\":" + System.currentTimeMillis() + "}");
    for (int i = 0; i < rounds; i++) {
      mutex.acquire();
      System.out.println("{\"event\":\"acquired\",\"t\":" + System.currentTimeMillis() + "}");
      Thread.sleep(holdMs);
      System.out.println("{\"event\":\"releasing\",\"t\":" + System.currentTimeMillis() + "}");
      mutex.release();
      Thread.sleep(5);
    }
    client.close();
  }
}
