import fs from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { ConfigError } from '../config';
import { StoreCorruptError } from '../storage';
import { backup, restore } from '../tools/backup';
import { loadSnapshotFrom, openExisting, resolveDataDirs, ToolError, txnsAfter } from '../tools/datadir';
import { exportTree, importTree, type ExportFile } from '../tools/export';
import { compareSnapshots, comparisonText, snapshotJson, snapshotStats, snapshotText, statsText, txnJson, txnLine } from '../tools/format';

/**
 * The data tools on the command line: `snapshot dump|stats|compare`, `log dump` (offline, on a
 * stopped server's data dir or a backup file), `backup`/`restore`, `export`/`import`. Text output
 * follows ZooKeeper's zkSnapShotToolkit / zkTxnLogToolkit / zkSnapshotComparer; `--json` is for
 * scripts. Exit codes: 0 done (compare: identical), 1 compare: the snapshots differ, 2 failed.
 */
export const TOOL_EXIT = { ok: 0, different: 1, failed: 2 } as const;

function zxidArg(value: string): bigint {
  if (!/^(0x[0-9a-fA-F]+|\d+)$/.test(value)) throw new InvalidArgumentError('a zxid is hex (0x...) or decimal');
  return BigInt(value);
}

const out = (s: string) => process.stdout.write(s);

/** Runs a tool; its known failures print one line and exit 2, so scripts can tell them from a difference. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- commander passes the action's typed arguments through
function tool<A extends any[]>(fn: (...args: A) => Promise<number | void> | number | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      process.exitCode = (await fn(...args)) ?? TOOL_EXIT.ok;
    } catch (err) {
      if (!(err instanceof ToolError || err instanceof ConfigError || err instanceof StoreCorruptError || (err as NodeJS.ErrnoException).code === 'ENOENT')) throw err;
      process.stderr.write(`zabkeeper: ${(err as Error).message}\n`);
      process.exitCode = TOOL_EXIT.failed;
    }
  };
}

export function addToolCommands(program: Command): void {
  const snapshot = program.command('snapshot').description('inspect snapshots offline: dump, stats, compare (a data dir of a stopped server, or a backup file)');
  snapshot
    .command('dump <source>')
    .description("every znode and session, as zkSnapShotToolkit prints them (--json: one JSON document)")
    .option('--zxid <zxid>', 'the snapshot at this zxid (default: the newest)', zxidArg)
    .option('--with-log', 'apply the txn log after the snapshot (the state the server would start with)')
    .option('--data-log-dir <dir>', 'when the txn log is not in the data dir')
    .option('-d, --data', 'include each node\'s data (base64)')
    .option('--json', 'JSON output')
    .action(tool((source: string, o: { zxid?: bigint; withLog?: boolean; dataLogDir?: string; data?: boolean; json?: boolean }) => {
      const { db } = loadSnapshotFrom(source, { zxid: o.zxid, replay: o.withLog, dataLogDir: o.dataLogDir });
      out(o.json ? JSON.stringify(snapshotJson(db, o.data ?? false)) + '\n' : snapshotText(db, o.data ?? false));
    }));
  snapshot
    .command('stats <source>')
    .description('node counts per depth and namespace, sizes, largest nodes, digest')
    .option('--zxid <zxid>', 'the snapshot at this zxid (default: the newest)', zxidArg)
    .option('--with-log', 'apply the txn log after the snapshot')
    .option('--data-log-dir <dir>', 'when the txn log is not in the data dir')
    .option('--json', 'JSON output')
    .action(tool((source: string, o: { zxid?: bigint; withLog?: boolean; dataLogDir?: string; json?: boolean }) => {
      const s = snapshotStats(loadSnapshotFrom(source, { zxid: o.zxid, replay: o.withLog, dataLogDir: o.dataLogDir }).db);
      out(o.json ? JSON.stringify(s, null, 2) + '\n' : statsText(s));
    }));
  snapshot
    .command('compare <left> <right>')
    .description('zkSnapshotComparer: per-snapshot figures, subtrees on one side only, nodes that differ; exit 0 identical, 1 different')
    .option('--with-log', 'apply each side\'s txn log after its snapshot')
    .option('--json', 'JSON output')
    .action(tool((left: string, right: string, o: { withLog?: boolean; json?: boolean }) => {
      const c = compareSnapshots(loadSnapshotFrom(left, { replay: o.withLog }).db, loadSnapshotFrom(right, { replay: o.withLog }).db);
      out(o.json ? JSON.stringify(c, null, 2) + '\n' : comparisonText(c));
      return c.identical ? TOOL_EXIT.ok : TOOL_EXIT.different;
    }));

  const log = program.command('log').description('inspect the txn log offline');
  log
    .command('dump <dataDir>')
    .description('zkTxnLogToolkit: one line per txn (--json: one JSON object per line)')
    .option('--data-log-dir <dir>', 'when the txn log is not in the data dir')
    .option('--from-zxid <zxid>', 'start after this zxid (default: the whole log)', zxidArg)
    .option('--json', 'JSON lines output')
    .action(tool((dataDir: string, o: { dataLogDir?: string; fromZxid?: bigint; json?: boolean }) => {
      const store = openExisting(resolveDataDirs({ dataDir, dataLogDir: o.dataLogDir }));
      try {
        let n = 0;
        const first = store.firstLogZxid();
        for (const txn of txnsAfter(store, o.fromZxid ?? (first === undefined ? 0n : first - 1n))) {
          out((o.json ? JSON.stringify(txnJson(txn)) : txnLine(txn)) + '\n');
          n++;
        }
        if (!o.json) out(`EOF reached after ${n} txns.\n`);
      } finally {
        store.close();
      }
    }));

  program
    .command('backup <dir>')
    .description('a consistent snapshot of a running server, taken by the server (AdminServer snapshot command), with a manifest')
    .option('-s, --server <host:port>', 'the AdminServer', '127.0.0.1:8080')
    .option('--auth <header>', 'Authorization: "digest user:password" or "ip" (ALL permissions on / needed)', 'ip')
    .option('--command-url <path>', 'admin.commandURL', '/commands')
    .action(tool(async (dir: string, o: { server: string; auth: string; commandUrl: string }) => {
      const m = await backup(dir, { server: o.server, auth: o.auth, commandUrl: o.commandUrl });
      out(JSON.stringify(m, null, 2) + '\n');
    }));
  program
    .command('restore <backup>')
    .description('make a data dir from a backup (dir with backup.json, or a snapshot file); the server must be stopped')
    .option('-d, --data-dir <dir>', 'the data dir to create')
    .option('--data-log-dir <dir>', 'a separate txn log dir')
    .option('-c, --config <zoo.cfg>', 'take dataDir/dataLogDir from zoo.cfg')
    .option('--force', 'replace an existing store (myid and other files are kept)')
    .action(tool((spec: string, o: { dataDir?: string; dataLogDir?: string; config?: string; force?: boolean }) => {
      const r = restore(spec, resolveDataDirs(o), { force: o.force });
      out(JSON.stringify({ restored: `0x${r.zxid.toString(16)}`, nodeCount: r.nodeCount }) + '\n');
    }));
  program
    .command('export <path>')
    .description('a subtree as JSON (works against Apache ZooKeeper too)')
    .requiredOption('-s, --server <connectString>', 'host:port[,host:port...]')
    .option('-o, --out <file>', 'write here instead of stdout')
    .option('--auth <scheme:credentials>', 'authenticate first, e.g. digest:user:password')
    .action(tool(async (root: string, o: { server: string; out?: string; auth?: string }) => {
      const file = await exportTree(o.server, root, { auth: o.auth });
      const text = JSON.stringify(file) + '\n';
      if (o.out) fs.writeFileSync(o.out, text);
      else out(text);
      process.stderr.write(`exported ${file.nodes.length} znodes from ${root}${file.skippedEphemerals.length ? `, left out ${file.skippedEphemerals.length} ephemeral` : ''}\n`);
    }));
  program
    .command('import <file>')
    .description('create the znodes of an export file (parents first, with their data and ACLs)')
    .requiredOption('-s, --server <connectString>', 'host:port[,host:port...]')
    .option('--to <path>', 'import under this path instead of the exported root')
    .option('--on-exists <policy>', 'fail (default), skip or overwrite', 'fail')
    .option('--auth <scheme:credentials>', 'authenticate first, e.g. digest:user:password')
    .action(tool(async (file: string, o: { server: string; to?: string; onExists: string; auth?: string }) => {
      if (!['fail', 'skip', 'overwrite'].includes(o.onExists)) throw new ToolError(`--on-exists must be fail, skip or overwrite, not '${o.onExists}'`);
      const data = JSON.parse(fs.readFileSync(file, 'utf8')) as ExportFile;
      const r = await importTree(o.server, data, { to: o.to, onExists: o.onExists as 'fail', auth: o.auth });
      out(JSON.stringify(r) + '\n');
    }));
}
