import { ErrorCode, Perms } from '../../protocol/jute/constants';
import type { ACL } from '../../protocol/jute/data';
import { createClient, NodeExistsError, ZkError, type ZkClient } from '../client';
import { ToolError } from './datadir';
import { aclJson } from './format';

/**
 * `zabkeeper export` / `import`: a subtree as JSON over the client protocol, so it works against
 * zabkeeper and Apache ZooKeeper alike (migration either way). Data is base64, ACLs are
 * `{perms: "cdrwa", scheme, id}`. Ephemeral nodes belong to sessions and are not exported; TTL
 * and container nodes come back as persistent ones (clients cannot tell them apart). Reads are
 * node by node after a sync, not one atomic snapshot: for a consistent copy of a whole server use
 * `zabkeeper backup`.
 */

export interface ExportedNode {
  path: string;
  data: string | null;
  acl: { perms: string; scheme: string; id: string }[];
}

export interface ExportFile {
  format: 'zabkeeper-export';
  version: 1;
  root: string;
  exportedAt: string;
  source: string;
  /** Parents before children. */
  nodes: ExportedNode[];
  /** Ephemeral nodes seen and left out. */
  skippedEphemerals: string[];
}

const LETTERS: readonly [string, number][] = [['c', Perms.create], ['d', Perms.delete], ['r', Perms.read], ['w', Perms.write], ['a', Perms.admin]];

/** The inverse of format.ts aclJson. */
export function aclFromJson(acl: ExportedNode['acl']): ACL[] {
  return acl.map((a) => {
    let perms = 0;
    for (const ch of a.perms) {
      const bit = LETTERS.find(([l]) => l === ch)?.[1];
      if (bit === undefined) throw new ToolError(`bad permission letter '${ch}' in ${JSON.stringify(a)}`);
      perms |= bit;
    }
    return { perms, id: { scheme: a.scheme, id: a.id } };
  });
}

/** `scheme:credentials` (as zkCli's addauth): digest:alice:secret. */
export function parseAuth(spec: string | undefined): { scheme: string; auth: string }[] {
  if (!spec) return [];
  const i = spec.indexOf(':');
  if (i <= 0) throw new ToolError(`--auth must be scheme:credentials (e.g. digest:user:password), got '${spec}'`);
  return [{ scheme: spec.slice(0, i), auth: spec.slice(i + 1) }];
}

const PARALLEL = 64;

/** Runs `fn` over `items` with at most PARALLEL in flight (the client pipelines them on one socket). */
async function eachLimited<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

const childOf = (parent: string, name: string): string => (parent === '/' ? `/${name}` : `${parent}/${name}`);

async function connect(server: string, auth?: string): Promise<ZkClient> {
  return createClient(server, { sessionTimeoutMs: 30_000, connectTimeoutMs: 10_000, auth: parseAuth(auth) });
}

/** Reads the subtree level by level; the /zookeeper system subtree is left out unless it is the root. */
export async function exportTree(server: string, root: string, o: { auth?: string } = {}): Promise<ExportFile> {
  const zk = await connect(server, o.auth);
  try {
    await zk.sync(root);
    const out: ExportFile = { format: 'zabkeeper-export', version: 1, root, exportedAt: new Date().toISOString(), source: server, nodes: [], skippedEphemerals: [] };
    let level = [root];
    while (level.length > 0) {
      const found: { node: ExportedNode; children: string[]; ephemeral: boolean }[] = new Array(level.length);
      await eachLimited(level.map((p, i) => [p, i] as const), async ([p, i]) => {
        const [{ data, stat }, { acl }, { children }] = await Promise.all([zk.getData(p), zk.getACL(p), zk.getChildren(p)]);
        found[i] = { node: { path: p, data: data === null ? null : data.toString('base64'), acl: aclJson(acl) }, children, ephemeral: stat.ephemeralOwner !== 0n };
      });
      const next: string[] = [];
      for (const f of found) {
        if (f.ephemeral) {
          out.skippedEphemerals.push(f.node.path);
          continue;
        }
        out.nodes.push(f.node);
        for (const c of f.children.sort()) {
          const cp = childOf(f.node.path, c);
          if (cp !== '/zookeeper' || root.startsWith('/zookeeper')) next.push(cp);
        }
      }
      level = next;
    }
    return out;
  } finally {
    await zk.close();
  }
}

export interface ImportResult {
  created: number;
  updated: number;
  skipped: number;
}

/** Moves `path` from the export's root to `to` (same path when `to` is not given). */
function rerooted(path: string, root: string, to: string | undefined): string {
  if (to === undefined || to === root) return path;
  const rest = path.slice(root === '/' ? 0 : root.length);
  if (to === '/') return rest === '' ? '/' : rest;
  return rest === '' || rest === '/' ? to : `${to}${rest.startsWith('/') ? rest : `/${rest}`}`;
}

/**
 * Creates the nodes parents first, each with its data and ACL. A node that exists is an error
 * (`fail`, the default), left alone (`skip`) or given the exported data and ACL (`overwrite`).
 * Missing parents of the destination root are created persistent and world-open.
 */
export async function importTree(server: string, file: ExportFile, o: { to?: string; onExists?: 'fail' | 'skip' | 'overwrite'; auth?: string } = {}): Promise<ImportResult> {
  if (file.format !== 'zabkeeper-export' || file.version !== 1) throw new ToolError('not a zabkeeper export file (format zabkeeper-export, version 1)');
  const zk = await connect(server, o.auth);
  const result: ImportResult = { created: 0, updated: 0, skipped: 0 };
  try {
    const nodes = file.nodes.map((n) => ({ ...n, path: rerooted(n.path, file.root, o.to) }));
    const depth = (p: string) => (p === '/' ? 0 : p.split('/').length - 1);
    const rootPath = rerooted(file.root, file.root, o.to);
    if (rootPath !== '/') {
      const parent = rootPath.slice(0, rootPath.lastIndexOf('/')) || '/';
      if (parent !== '/') await zk.ensurePath(parent);
    }
    const byDepth = new Map<number, typeof nodes>();
    for (const n of nodes) {
      const level = byDepth.get(depth(n.path));
      if (level) level.push(n);
      else byDepth.set(depth(n.path), [n]);
    }
    for (const d of [...byDepth.keys()].sort((a, b) => a - b)) {
      await eachLimited(byDepth.get(d)!, async (n) => {
        const data = n.data === null ? null : Buffer.from(n.data, 'base64');
        const acl = aclFromJson(n.acl);
        // "/" always exists: its data and ACL are set as an overwrite would (unless skipping).
        if (n.path !== '/') {
          try {
            await zk.create(n.path, data, { acl });
            result.created++;
            return;
          } catch (err) {
            if (!(err instanceof NodeExistsError)) throw wrap(err, n.path);
          }
          if ((o.onExists ?? 'fail') === 'fail') throw new ToolError(`${n.path} already exists (use --on-exists skip or overwrite)`);
        }
        if (o.onExists === 'skip') {
          result.skipped++;
          return;
        }
        try {
          await zk.setData(n.path, data);
          await zk.setACL(n.path, acl);
        } catch (err) {
          throw wrap(err, n.path);
        }
        result.updated++;
      });
    }
    return result;
  } finally {
    await zk.close();
  }
}

function wrap(err: unknown, path: string): Error {
  if (!(err instanceof ZkError)) return err as Error;
  const hint = err.code === ErrorCode.noAuth ? ' (authenticate with --auth, e.g. the super digest)' : '';
  return new ToolError(`${path}: ${err.message}${hint}`);
}
