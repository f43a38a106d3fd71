/**
 * zkCli 3.8's server commands (org.apache.zookeeper.cli.*Command), one table entry each: its usage
 * text, its commons-cli options, and what it does with a ZkClient. Output goes through the context
 * so the same code serves text mode (zkCli's exact lines, stdout vs stderr as zkCli) and --json
 * (each command returns a result object). Failures throw CliError with zkCli's message.
 *
 * The shell-level commands (connect, history, redo, printwatches, quit) live in shell.ts.
 */
import { ErrorCode } from '../../protocol/jute/constants';
import type { ACL, Stat } from '../../protocol/jute/data';
import type { PersistentWatch, ZkClient } from '../client/client';
import { NoNodeError, NodeExistsError, ZkError } from '../client/errors';
import type { CreateMode, WatchedEvent, WatcherTypeName } from '../client/types';
import { parseAcl } from './acl';
import { CliParseError, helpText, parseOptions, type OptionsSpec, type ParsedArgs } from './cliparse';
import {
  cliErrorMessage,
  idString,
  javaList,
  keeperMessage,
  permString,
  statJson,
  statLines,
  validatePath,
} from './format';
import {
  BYTES,
  BYTES_HARD,
  COUNT,
  COUNT_HARD,
  LIMIT_NODE,
  QUOTA_ROOT,
  formatStatsTrack,
  limitPath,
  parseStatsTrack,
  quotaPath,
  statPath,
  statValue,
  trimQuotaPath,
  type StatsTrack,
} from './quota';
import { PACKAGE_VERSION } from '../util/version';

/** A failed command: zkCli prints `message` on stderr and exits with `exitCode` in one-shot mode. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
    readonly code?: number,
    readonly path?: string | null,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/**
 * A Java RuntimeException zkCli does not catch (e.g. `set -v abc`): the JVM prints it and exits 1.
 * The shell mirrors that in one-shot and script modes and only reports it when interactive.
 */
export class JavaCrash extends Error {
  constructor(readonly javaException: string) {
    super(javaException);
    this.name = 'JavaCrash';
  }
}

export interface CommandContext {
  readonly zk: ZkClient;
  /** A client without the chroot (zkCli's getConfig ignores the chroot). */
  unchrooted(): ZkClient;
  out(line: string): void;
  /** stdout without a newline (setAcl -R reports errors that way). */
  outRaw(text: string): void;
  /** Informational stderr text that --json replaces with the result (e.g. `Created /a`). */
  info(line: string): void;
  /** stderr warnings (kept in --json as `warnings`). */
  warn(line: string): void;
  /** Prints a one-shot watch's event when it fires. */
  watchOnce(w: Promise<WatchedEvent> | undefined): void;
  watchPersistent(w: PersistentWatch): void;
  /** Runs a removeWatches call so duplicate removal events (one per local table) print once. */
  removal<T>(fn: () => Promise<T>): Promise<T>;
  readonly timeZone: string | undefined;
}

export interface CommandDef {
  readonly name: string;
  /** zkCli's option string (usage is `name + ' ' + optionStr`). */
  readonly optionStr: string;
  readonly options: OptionsSpec;
  /** Parse-time checks and rewrites (zkCli's parse()); the default checks nothing. */
  parse?(p: ParsedArgs, words: string[], ctx: Pick<CommandContext, 'warn' | 'out'>): ParsedArgs;
  run(ctx: CommandContext, p: ParsedArgs): Promise<unknown>;
}

export const usageOf = (c: CommandDef): string => `${c.name} ${c.optionStr}`;

// ------------------------------------------------------------------ helpers

const flag = (name: string, description: string) => ({ name, hasArg: false, description });
const valued = (name: string, description: string) => ({ name, hasArg: true, description });

const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;

/** Integer.parseInt: uncaught in zkCli, so a bad number crashes it. */
export function javaParseInt(s: string): number {
  if (!/^[+-]?\d+$/.test(s)) throw new JavaCrash(`java.lang.NumberFormatException: For input string: "${s}"`);
  const n = Number(s);
  if (n < INT_MIN || n > INT_MAX) throw new JavaCrash(`java.lang.NumberFormatException: For input string: "${s}"`);
  return n;
}

/** Integer.parseInt/Long.parseLong where zkCli catches the failure: undefined when not a number. */
function parseNumber(s: string | null | undefined, bits: 32 | 64): number | undefined {
  if (s === null || s === undefined || !/^[+-]?\d+$/.test(s)) return undefined;
  const n = BigInt(s);
  const lim = 1n << BigInt(bits - 1);
  if (n < -lim || n >= lim) return undefined;
  return Number(n);
}

function minArgs(n: number, usage: () => string) {
  return (p: ParsedArgs): ParsedArgs => {
    if (p.args.length < n) throw new CliError(usage());
    return p;
  };
}

/** zkCli's IllegalArgumentException from PathUtils (MalformedPathException, exit 1). */
function checkPath(path: string, sequential = false): void {
  const problem = validatePath(path, sequential);
  if (problem !== undefined) throw new CliError(problem);
}

/** Maps a client failure to zkCli's CliWrapperException text. */
export function wrapError(err: unknown, path: string | null | undefined): CliError {
  if (err instanceof CliError) return err;
  if (err instanceof ZkError) {
    const p = err.path ?? path;
    return new CliError(cliErrorMessage(err.code, p), 1, err.code, p ?? null);
  }
  if (err instanceof JavaCrash) throw err;
  // Closed client, connect timeout, expired session: the Java client reports ConnectionLoss.
  return new CliError(keeperMessage(ErrorCode.connectionLoss, path), 1, ErrorCode.connectionLoss, path ?? null);
}

async function zkCall<T>(path: string | null, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw wrapError(err, path);
  }
}

const utf8 = (b: Buffer | null): string => (b === null ? 'null' : b.toString('utf8'));

function printStat(ctx: CommandContext, stat: Stat): void {
  for (const l of statLines(stat, ctx.timeZone)) ctx.out(l);
}

/** zkCli's deprecated `cmd path watch` form: the third word is rewritten to -w and re-parsed. */
function deprecatedWatchForm(name: string, hint: string, spec: OptionsSpec) {
  return (p: ParsedArgs, words: string[], ctx: Pick<CommandContext, 'warn'>): ParsedArgs => {
    if (p.args.length <= 2) return p;
    const rewritten = words.slice();
    rewritten[2] = '-w';
    ctx.warn(`'${name} path [watch]' has been deprecated. Please use '${hint}' instead.`);
    return parseOptions(spec, rewritten);
  };
}

/** ZKUtil.visitSubTreeDFS: the node, then each level's sorted children, depth first. */
async function visitSubTreeDFS(zk: ZkClient, path: string, watch: boolean, visit: (p: string) => Promise<void> | void, watches?: (w: Promise<WatchedEvent>) => void): Promise<void> {
  checkPath(path);
  const got = await zkCall(path, () => zk.getData(path, { watch }));
  if (watch) watches?.((got as { watch: Promise<WatchedEvent> }).watch);
  await visit(path);
  await visitChildren(zk, path, watch, visit, watches);
}

async function visitChildren(zk: ZkClient, path: string, watch: boolean, visit: (p: string) => Promise<void> | void, watches?: (w: Promise<WatchedEvent>) => void): Promise<void> {
  let children: string[];
  try {
    const r = await zk.getChildren(path, { watch });
    if (watch) watches?.((r as { watch: Promise<WatchedEvent> }).watch);
    children = r.children.sort();
  } catch (err) {
    if (err instanceof NoNodeError) return;
    throw wrapError(err, path);
  }
  const childPath = (c: string) => (path === '/' ? `/${c}` : `${path}/${c}`);
  for (const c of children) await visit(childPath(c));
  for (const c of children) await visitChildren(zk, childPath(c), watch, visit, watches);
}

/** ZKUtil.listSubTreeBFS. */
async function listSubTreeBFS(zk: ZkClient, root: string): Promise<string[]> {
  const tree = [root];
  for (let i = 0; i < tree.length; i++) {
    const node = tree[i]!;
    const { children } = await zk.getChildren(node);
    for (const c of children) tree.push(`${node === '/' ? '' : node}/${c}`);
  }
  return tree;
}

// ------------------------------------------------------------------ commands

const createSpec: OptionsSpec = {
  opts: [flag('e', 'ephemeral'), flag('s', 'sequential'), flag('c', 'container'), valued('t', 'ttl')],
};
const TTL_MAX = 0xffffffffff; // EphemeralType.TTL max (40 bits)

function createMode(e: boolean, s: boolean, c: boolean, t: boolean): CreateMode {
  if (e && s) return 'ephemeralSequential';
  if (e) return 'ephemeral';
  if (s) return t ? 'persistentSequentialWithTTL' : 'persistentSequential';
  if (c) return 'container';
  return t ? 'persistentWithTTL' : 'persistent';
}

const create: CommandDef = {
  name: 'create',
  optionStr: '[-s] [-e] [-c] [-t ttl] path [data] [acl]',
  options: createSpec,
  parse: minArgs(2, () => usageOf(create)),
  async run(ctx, p) {
    const [e, s, c, t] = ['e', 's', 'c', 't'].map((k) => p.opts.has(k)) as [boolean, boolean, boolean, boolean];
    if (c && (e || s)) throw new CliError('-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential.');
    const ttl = t ? parseNumber(p.opts.get('t'), 64) : 0;
    if (ttl === undefined) throw new CliError('-t argument must be a long value');
    if (t && e) throw new CliError('TTLs cannot be used with Ephemeral znodes');
    if (t && c) throw new CliError('TTLs cannot be used with Container znodes');
    if (t && (ttl <= 0 || ttl > TTL_MAX)) throw new CliError(`ttl must be positive and cannot be larger than: ${TTL_MAX}`);
    const mode = createMode(e, s, c, t);
    const path = p.args[1]!;
    const data = p.args.length > 2 ? Buffer.from(p.args[2]!, 'utf8') : null;
    let acl: readonly ACL[] | undefined;
    if (p.args.length > 3) {
      const parsed = parseAcl(p.args[3]!);
      parsed.warnings.forEach((w) => ctx.warn(w));
      acl = parsed.acl;
    }
    checkPath(path, s);
    if (acl !== undefined && acl.length === 0) {
      // The Java client rejects an empty ACL list itself, without a path.
      ctx.warn(keeperMessage(ErrorCode.invalidACL, null));
      throw new CliError(cliErrorMessage(ErrorCode.invalidACL, null), 1, ErrorCode.invalidACL, null);
    }
    try {
      const r = await ctx.zk.create(path, data, { mode, ...(acl ? { acl } : {}), ...(t ? { ttlMs: ttl } : {}) });
      ctx.info(`Created ${r.path}`);
      return { path: r.path, stat: statJson(r.stat) };
    } catch (err) {
      if (err instanceof ZkError && err.code === ErrorCode.ephemeralOnLocalSession) ctx.warn('Unable to create ephemeral node on a local session');
      if (err instanceof ZkError && err.code === ErrorCode.invalidACL) ctx.warn(keeperMessage(err.code, err.path ?? path));
      throw wrapError(err, path);
    }
  },
};

const deleteSpec: OptionsSpec = { opts: [valued('v', 'version')] };
const del: CommandDef = {
  name: 'delete',
  optionStr: '[-v version] path',
  options: deleteSpec,
  parse(p, _words, ctx) {
    minArgs(2, () => usageOf(del))(p);
    if (p.args.length > 2) ctx.warn("'delete path [version]' has been deprecated. Please use 'delete [-v version] path' instead.");
    return p;
  },
  async run(ctx, p) {
    const path = p.args[1]!;
    const v = p.opts.get('v');
    const version = v !== undefined ? javaParseInt(v ?? 'null') : -1;
    checkPath(path);
    await zkCall(path, () => ctx.zk.delete(path, { version }));
    return { path };
  },
};

const deleteall: CommandDef = {
  name: 'deleteall',
  optionStr: 'path [-b batch size]',
  options: { opts: [valued('b', 'batch size')] },
  parse: minArgs(2, () => usageOf(deleteall)),
  async run(ctx, p) {
    const batch = p.opts.has('b') ? parseNumber(p.opts.get('b'), 32) : 1000;
    if (batch === undefined) throw new CliError('-b argument must be an int value');
    const path = p.args[1]!;
    checkPath(path);
    const tree = await zkCall(path, () => listSubTreeBFS(ctx.zk, path));
    let ok = true;
    let tx = ctx.zk.transaction();
    // ZKUtil.deleteInBatch: deepest first, `batch` deletes per multi.
    for (let i = tree.length - 1; i >= 0; --i) {
      tx.delete(tree[i]!, -1);
      if (tx.size === batch || i === 0) {
        try {
          await tx.commit();
        } catch {
          ok = false;
          break;
        }
        tx = ctx.zk.transaction();
      }
    }
    if (!ok) ctx.warn('Failed to delete some node(s) in the subtree!');
    return { path, deleted: ok ? tree.length : undefined, ok };
  },
};

const setSpec: OptionsSpec = { opts: [flag('s', 'stats'), valued('v', 'version')] };
const set: CommandDef = {
  name: 'set',
  optionStr: '[-s] [-v version] path data',
  options: setSpec,
  parse: minArgs(3, () => usageOf(set)),
  async run(ctx, p) {
    const path = p.args[1]!;
    const data = Buffer.from(p.args[2]!, 'utf8');
    const v = p.opts.get('v');
    const version = v !== undefined ? javaParseInt(v ?? 'null') : -1;
    checkPath(path);
    const stat = await zkCall(path, () => ctx.zk.setData(path, data, { version }));
    if (p.opts.has('s')) printStat(ctx, stat);
    return { path, stat: statJson(stat) };
  },
};

/** get/stat parse: a path is required, and zkCli's deprecated `cmd path watch` form still works. */
function parseWatchedRead(def: () => CommandDef, hint: string, spec: OptionsSpec): CommandDef['parse'] {
  return (p, words, ctx) => {
    minArgs(2, () => usageOf(def()))(p);
    return deprecatedWatchForm(def().name, hint, spec)(p, words, ctx);
  };
}

/** A read that may leave a one-shot watch: the shell prints its event once it fires. */
async function watchedRead<T extends object>(ctx: CommandContext, path: string, watch: boolean, call: () => Promise<T>): Promise<T> {
  checkPath(path);
  const r = await zkCall(path, call);
  if (watch) ctx.watchOnce((r as { watch?: Promise<WatchedEvent> }).watch);
  return r;
}

const getSpec: OptionsSpec = { opts: [flag('s', 'stats'), flag('w', 'watch')] };
const get: CommandDef = {
  name: 'get',
  optionStr: '[-s] [-w] path',
  options: getSpec,
  parse: parseWatchedRead(() => get, 'get [-s] [-w] path', getSpec),
  async run(ctx, p) {
    const path = p.args[1]!;
    const watch = p.opts.has('w');
    const r = await watchedRead(ctx, path, watch, () => ctx.zk.getData(path, { watch }));
    ctx.out(utf8(r.data));
    if (p.opts.has('s')) printStat(ctx, r.stat);
    return { path, data: r.data === null ? null : r.data.toString('utf8'), stat: statJson(r.stat) };
  },
};

const lsSpec: OptionsSpec = {
  opts: [flag('?', 'help'), flag('s', 'stat'), flag('w', 'watch'), flag('R', 'recurse')],
};
const ls: CommandDef = {
  name: 'ls',
  optionStr: '[-s] [-w] [-R] path',
  options: lsSpec,
  parse(p, words, ctx) {
    if (p.opts.has('?')) helpText('ls [options] path', lsSpec).forEach((l) => ctx.out(l));
    return deprecatedWatchForm('ls', 'ls [-w] path', lsSpec)(p, words, ctx);
  },
  async run(ctx, p) {
    if (p.args.length < 2) throw new CliError(usageOf(ls));
    const path = p.args[1]!;
    const watch = p.opts.has('w');
    if (p.opts.has('R')) {
      const paths: string[] = [];
      await visitSubTreeDFS(ctx.zk, path, watch, (q) => {
        paths.push(q);
        ctx.out(q);
      }, (w) => ctx.watchOnce(w));
      return { path, paths };
    }
    const r = await watchedRead(ctx, path, watch, () => ctx.zk.getChildren(path, { watch }));
    const children = r.children.slice().sort();
    ctx.out(javaList(children));
    if (p.opts.has('s')) printStat(ctx, r.stat);
    return { path, children, ...(p.opts.has('s') ? { stat: statJson(r.stat) } : {}) };
  },
};

function printAcl(ctx: CommandContext, acl: readonly ACL[]): void {
  for (const a of acl) ctx.out(`${idString(a.id)}: ${permString(a.perms)}`);
}
const aclJson = (acl: readonly ACL[]) => acl.map((a) => ({ scheme: a.id.scheme, id: a.id.id, perms: permString(a.perms) }));

const getAcl: CommandDef = {
  name: 'getAcl',
  optionStr: '[-s] path',
  options: { opts: [flag('s', 'stats')] },
  parse: minArgs(2, () => usageOf(getAcl)),
  async run(ctx, p) {
    const path = p.args[1]!;
    checkPath(path);
    const r = await zkCall(path, () => ctx.zk.getACL(path));
    printAcl(ctx, r.acl);
    if (p.opts.has('s')) printStat(ctx, r.stat);
    return { path, acl: aclJson(r.acl), stat: statJson(r.stat) };
  },
};

const setAcl: CommandDef = {
  name: 'setAcl',
  optionStr: '[-s] [-v version] [-R] path acl',
  options: { opts: [flag('s', 'stats'), valued('v', 'version'), flag('R', 'recursive')] },
  parse: minArgs(3, () => usageOf(setAcl)),
  async run(ctx, p) {
    const path = p.args[1]!;
    const parsed = parseAcl(p.args[2]!);
    parsed.warnings.forEach((w) => ctx.warn(w));
    const v = p.opts.get('v');
    const version = v !== undefined ? javaParseInt(v ?? 'null') : -1;
    const emptyAcl = () => new CliError(cliErrorMessage(ErrorCode.invalidACL, null), 1, ErrorCode.invalidACL, null);
    if (p.opts.has('R')) {
      const failed: string[] = [];
      await visitSubTreeDFS(ctx.zk, path, false, async (q) => {
        if (parsed.acl.length === 0) throw emptyAcl();
        try {
          await ctx.zk.setACL(q, parsed.acl, { version });
        } catch (err) {
          if (!(err instanceof ZkError)) throw wrapError(err, q);
          failed.push(q);
          ctx.outRaw(keeperMessage(err.code, err.path ?? q)); // zkCli prints these without a newline
        }
      });
      return { path, recursive: true, failed };
    }
    checkPath(path);
    if (parsed.acl.length === 0) throw emptyAcl();
    const stat = await zkCall(path, () => ctx.zk.setACL(path, parsed.acl, { version }));
    if (p.opts.has('s')) printStat(ctx, stat);
    return { path, stat: statJson(stat) };
  },
};

const statSpec: OptionsSpec = { opts: [flag('w', 'watch')] };
const stat: CommandDef = {
  name: 'stat',
  optionStr: '[-w] path',
  options: statSpec,
  parse: parseWatchedRead(() => stat, 'stat [-w] path', statSpec),
  async run(ctx, p) {
    const path = p.args[1]!;
    const watch = p.opts.has('w');
    const r = await watchedRead(ctx, path, watch, () => ctx.zk.exists(path, { watch }));
    if (r.stat === null) throw new CliError(cliErrorMessage(ErrorCode.noNode, path), 1, ErrorCode.noNode, path);
    printStat(ctx, r.stat);
    return { path, stat: statJson(r.stat) };
  },
};

const sync: CommandDef = {
  name: 'sync',
  optionStr: 'path',
  options: { opts: [] },
  parse: minArgs(2, () => usageOf(sync)),
  async run(ctx, p) {
    const path = p.args[1]!;
    checkPath(path);
    try {
      await ctx.zk.sync(path);
    } catch (err) {
      if (!(err instanceof ZkError)) throw wrapError(err, path);
      // zkCli reports a failed sync's result code as output, not as an error.
      ctx.out(`Sync has failed. rc=${err.code}`);
      return { path, ok: false, rc: err.code };
    }
    ctx.out('Sync is OK');
    return { path, ok: true };
  },
};

const getAllChildrenNumber: CommandDef = {
  name: 'getAllChildrenNumber',
  optionStr: 'path',
  options: { opts: [] },
  async run(ctx, p) {
    if (p.args.length < 2) throw new CliError(usageOf(getAllChildrenNumber));
    const path = p.args[1]!;
    checkPath(path);
    const n = await zkCall(path, () => ctx.zk.getAllChildrenNumber(path));
    ctx.out(String(n));
    return { path, count: n };
  },
};

const getEphemerals: CommandDef = {
  name: 'getEphemerals',
  optionStr: 'path',
  options: { opts: [] },
  async run(ctx, p) {
    const path = p.args.length < 2 ? '/' : p.args[1]!;
    checkPath(path);
    const list = await zkCall(path, () => ctx.zk.getEphemerals(path));
    ctx.out(javaList(list));
    return { path, ephemerals: list };
  },
};

const version: CommandDef = {
  name: 'version',
  optionStr: '',
  options: { opts: [] },
  parse(p) {
    if (p.args.length > 1) throw new CliError(usageOf(version));
    return p;
  },
  async run(ctx) {
    // zkCli prints Version.getFullVersion(); we keep the "3.8.0" prefix scripts match on.
    const v = `3.8.0-zabkeeper-${PACKAGE_VERSION}`;
    ctx.out(`ZooKeeper CLI version: ${v}`);
    return { version: v, zabkeeper: PACKAGE_VERSION };
  },
};

const whoami: CommandDef = {
  name: 'whoami',
  optionStr: '',
  options: { opts: [] },
  async run(ctx) {
    const infos = await zkCall(null, () => ctx.zk.whoAmI());
    ctx.out('Auth scheme: User');
    for (const i of infos) ctx.out(`${i.authScheme}: ${i.user}`);
    return { clientInfo: infos };
  },
};

const addauth: CommandDef = {
  name: 'addauth',
  optionStr: 'scheme auth',
  options: { opts: [] },
  parse: minArgs(2, () => usageOf(addauth)),
  async run(ctx, p) {
    const scheme = p.args[1]!;
    const auth = p.args.length >= 3 ? Buffer.from(p.args[2]!, 'utf8') : Buffer.alloc(0);
    // The Java client's addAuthInfo does not wait: a rejected credential shows up as an AuthFailed
    // event (printed by the shell's state listener), never as a command error.
    try {
      await ctx.zk.addAuth(scheme, auth);
    } catch (err) {
      if (!(err instanceof ZkError)) throw wrapError(err, null);
      return { scheme, ok: false };
    }
    return { scheme, ok: true };
  },
};

const configCmd: CommandDef = {
  name: 'config',
  optionStr: '[-c] [-w] [-s]',
  options: { opts: [flag('s', 'stats'), flag('w', 'watch'), flag('c', 'client connection string')] },
  async run(ctx, p) {
    const watch = p.opts.has('w');
    const r = await zkCall(null, () => ctx.unchrooted().getData('/zookeeper/config', { watch }));
    if (watch) ctx.watchOnce((r as { watch?: Promise<WatchedEvent> }).watch);
    const text = utf8(r.data);
    ctx.out(p.opts.has('c') ? clientConfigString(text) : text);
    if (p.opts.has('s')) printStat(ctx, r.stat);
    return { config: r.data === null ? null : text, ...(p.opts.has('c') ? { connectString: clientConfigString(text) } : {}), stat: statJson(r.stat) };
  },
};

/** ConfigUtils.getClientConfigStr: `<version> <clientHost:port,...>` from a dynamic config. */
export function clientConfigString(config: string): string {
  let version = '';
  const hosts: string[] = [];
  for (const raw of config.split(/\r?\n/)) {
    const line = raw.trim();
    const eq = line.indexOf('=');
    if (line === '' || line.startsWith('#') || eq < 0) continue;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (key === 'version') version = value;
    if (!key.startsWith('server.')) continue;
    const semi = value.indexOf(';');
    if (semi < 0) continue;
    const client = value.slice(semi + 1);
    hosts.push(client.includes(':') ? client : `0.0.0.0:${client}`);
  }
  return `${version} ${hosts.join(',')}`;
}

const reconfigSpec: OptionsSpec = {
  opts: [
    flag('s', 'stats'),
    valued('v', 'required current config version'),
    valued('file', 'path of config file to parse for membership'),
    valued('members', 'comma-separated list of config strings for non-incremental reconfig'),
    valued('add', 'comma-separated list of config strings for new servers'),
    valued('remove', 'comma-separated list of server IDs to remove'),
  ],
};
const reconfig: CommandDef = {
  name: 'reconfig',
  optionStr:
    '[-s] [-v version] [[-file path] | [-members serverID=host:port1:port2;port3[,...]*]] | [-add serverId=host:port1:port2;port3[,...]]* [-remove serverId[,...]*]',
  options: reconfigSpec,
  parse(p) {
    const has = (k: string) => p.opts.has(k);
    if (!(has('file') || has('members')) && !has('add') && !has('remove')) throw new CliError(usageOf(reconfig));
    if (has('v') && !/^[+-]?[0-9a-fA-F]+$/.test(p.opts.get('v') ?? '')) {
      throw new CliError('-v must be followed by a long (configuration version)');
    }
    if ((has('file') || has('members')) && (has('add') || has('remove'))) {
      throw new CliError('Can\'t use -file or -members together with -add or -remove (mixing incremental and non-incremental modes is not allowed)');
    }
    if (has('file') && has('members')) throw new CliError("Can't use -file and -members together (conflicting non-incremental modes)");
    return p;
  },
  async run() {
    // Neither zabkeeper nor a standalone Apache server supports dynamic reconfiguration, and the
    // client library has no reconfig call: report what such a server answers.
    throw new CliError(keeperMessage(ErrorCode.reconfigDisabled, null), 1, ErrorCode.reconfigDisabled, null);
  },
};

const removewatches: CommandDef = {
  name: 'removewatches',
  optionStr: 'path [-c|-d|-a] [-l]',
  options: {
    opts: [
      flag('c', 'child watcher type'),
      flag('d', 'data watcher type'),
      flag('a', 'any watcher type'),
      flag('l', 'remove locally when there is no server connection'),
    ],
  },
  parse: minArgs(2, () => usageOf(removewatches)),
  async run(ctx, p) {
    const path = p.args[1]!;
    const type: WatcherTypeName = p.opts.has('c') ? 'children' : p.opts.has('d') ? 'data' : 'any';
    const local = p.opts.has('l');
    checkPath(path);
    await ctx.removal(() => zkCall(path, () => ctx.zk.removeWatches(path, type, { local })));
    return { path, type };
  },
};

const ADD_WATCH_MODES = { PERSISTENT: 'persistent', PERSISTENT_RECURSIVE: 'persistentRecursive' } as const;
const addWatch: CommandDef = {
  name: 'addWatch',
  optionStr: '[-m mode] path # optional mode is one of [PERSISTENT, PERSISTENT_RECURSIVE] - default is PERSISTENT_RECURSIVE',
  options: { opts: [valued('m', '')] },
  parse(p) {
    if (p.args.length !== 2) throw new CliError(usageOf(addWatch));
    if (p.opts.has('m') && !((p.opts.get('m') ?? '').toUpperCase() in ADD_WATCH_MODES)) throw new CliError(usageOf(addWatch));
    return p;
  },
  async run(ctx, p) {
    const path = p.args[1]!;
    const key = (p.opts.get('m') ?? 'PERSISTENT_RECURSIVE').toUpperCase() as keyof typeof ADD_WATCH_MODES;
    const mode = ADD_WATCH_MODES[key];
    checkPath(path);
    const w = await zkCall(path, () => ctx.zk.addWatch(path, { mode, bufferSize: 1 << 16, overflow: 'dropOldest' }));
    ctx.watchPersistent(w);
    return { path, mode: key };
  },
};

const close: CommandDef = {
  name: 'close',
  optionStr: '',
  options: { opts: [] },
  async run() {
    return {}; // handled by the shell (it owns the session); listed here for usage and dispatch
  },
};

// ------------------------------------------------------------------ quotas

/** Reads a StatsTrack node (null when missing). */
async function readTrack(zk: ZkClient, path: string): Promise<StatsTrack | null> {
  try {
    return parseStatsTrack(utf8((await zk.getData(path)).data));
  } catch (err) {
    if (err instanceof NoNodeError) return null;
    throw err;
  }
}

async function existsPath(zk: ZkClient, path: string): Promise<boolean> {
  return (await zk.exists(path)).stat !== null;
}

async function createIgnoringExists(zk: ZkClient, path: string, data: string | null): Promise<void> {
  try {
    await zk.create(path, data);
  } catch (err) {
    if (!(err instanceof NodeExistsError)) throw err;
  }
}

function quotaWarnings(ctx: CommandContext, quota: StatsTrack, stats: StatsTrack): void {
  const count = statValue(stats, COUNT);
  const bytes = statValue(stats, BYTES);
  const over = (limit: number, used: number) => limit > -1 && limit < used;
  if (over(statValue(quota, COUNT), count) || over(statValue(quota, COUNT_HARD), count)) {
    ctx.out(`[Warning]: the count quota you create is less than the existing count:${count}`);
  }
  if (over(statValue(quota, BYTES), bytes) || over(statValue(quota, BYTES_HARD), bytes)) {
    ctx.out(`[Warning]: the bytes quota you create is less than the existing bytes:${bytes}`);
  }
}

/** SetQuotaCommand.checkIfChildQuota / checkIfParentQuota. */
async function checkQuotaNesting(zk: ZkClient, path: string): Promise<void> {
  const real = quotaPath(path);
  checkPath(real);
  try {
    await visitSubTreeDFS(zk, real, false, async (q) => {
      let children: string[];
      try {
        children = (await zk.getChildren(q)).children;
      } catch (err) {
        if (err instanceof NoNodeError) return;
        throw err;
      }
      if (q !== QUOTA_ROOT + path && children.includes(LIMIT_NODE)) {
        throw new CliError(`${path} has a child ${trimQuotaPath(q)} which has a quota`);
      }
    });
  } catch (err) {
    if (!(err instanceof CliError && err.code === ErrorCode.noNode)) throw err;
  }
  const parts = path.split('/');
  let q = QUOTA_ROOT;
  for (let i = 1; i < parts.length - 1; i++) {
    q += `/${parts[i]}`;
    let children: string[];
    try {
      children = (await zk.getChildren(q)).children;
    } catch (err) {
      if (err instanceof NoNodeError) return;
      throw err;
    }
    if (children.length === 0) return;
    if (q !== quotaPath(path) && children.includes(LIMIT_NODE)) {
      throw new CliError(`${path} has a parent ${trimQuotaPath(q)} which has a quota`);
    }
  }
}

const QUOTA_FLAGS: readonly [string, string, 32 | 64][] = [
  ['n', COUNT, 32],
  ['b', BYTES, 64],
  ['N', COUNT_HARD, 32],
  ['B', BYTES_HARD, 64],
];

const setquota: CommandDef = {
  name: 'setquota',
  optionStr: '-n|-b|-N|-B val path',
  options: {
    opts: [valued('n', 'num soft quota'), valued('b', 'bytes soft quota'), valued('N', 'num hard quota'), valued('B', 'bytes hard quota')],
    groups: [{ names: ['n', 'b', 'N', 'B'], required: true }],
  },
  parse: minArgs(2, () => usageOf(setquota)),
  async run(ctx, p) {
    const path = p.args[1]!;
    if (path.startsWith(QUOTA_ROOT)) {
      ctx.warn(`cannot set a quota under the path: ${QUOTA_ROOT}`);
      return { path, ok: false };
    }
    const quota: StatsTrack = new Map([[COUNT, -1], [BYTES, -1], [COUNT_HARD, -1], [BYTES_HARD, -1]]);
    for (const [opt, key, bits] of QUOTA_FLAGS) {
      if (!p.opts.has(opt)) continue;
      const v = parseNumber(p.opts.get(opt), bits);
      if (v === undefined) {
        ctx.warn('NumberFormatException happens when parsing the option value');
        return { path, ok: false };
      }
      const isCount = key === COUNT || key === COUNT_HARD;
      if (isCount ? v <= 0 : v < 0) {
        ctx.warn(isCount ? 'the num quota must be greater than zero' : 'the bytes quota must be greater than or equal to zero');
        return { path, ok: false };
      }
      quota.set(key, v);
    }
    try {
      await createQuota(ctx, path, quota);
    } catch (err) {
      throw wrapError(err, path);
    }
    return { path, ok: true };
  },
};

async function createQuota(ctx: CommandContext, path: string, quota: StatsTrack): Promise<void> {
  const zk = ctx.zk;
  checkPath(path);
  if (!(await existsPath(zk, path))) throw new CliError(`${path} does not exist.`);
  await checkQuotaNesting(zk, path);
  if (!(await existsPath(zk, QUOTA_ROOT))) {
    await createIgnoringExists(zk, '/zookeeper', null);
    await createIgnoringExists(zk, QUOTA_ROOT, null);
  }
  let q = QUOTA_ROOT;
  for (const part of path.split('/').slice(1)) {
    q += `/${part}`;
    if (!(await existsPath(zk, q))) await createIgnoringExists(zk, q, null);
  }
  const limit = `${q}/${LIMIT_NODE}`;
  const statNode = statPath(path);
  if (!(await existsPath(zk, limit))) {
    await zk.create(limit, formatStatsTrack(quota));
    await zk.create(statNode, formatStatsTrack(new Map([[COUNT, 0], [BYTES, 0]])));
    quotaWarnings(ctx, (await readTrack(zk, limit))!, (await readTrack(zk, statNode)) ?? new Map());
    return;
  }
  const current = (await readTrack(zk, limit)) ?? new Map<string, number>();
  for (const key of [COUNT, BYTES, COUNT_HARD, BYTES_HARD]) {
    if (statValue(quota, key) > -1) current.set(key, statValue(quota, key));
  }
  quotaWarnings(ctx, current, (await readTrack(zk, statNode)) ?? new Map());
  await zk.setData(limit, formatStatsTrack(current));
}

const listquota: CommandDef = {
  name: 'listquota',
  optionStr: 'path',
  options: { opts: [] },
  parse: minArgs(2, () => usageOf(listquota)),
  async run(ctx, p) {
    const path = p.args[1]!;
    ctx.warn(`absolute path is ${limitPath(path)}`);
    checkPath(limitPath(path));
    try {
      const limits = parseStatsTrack(utf8((await ctx.zk.getData(limitPath(path))).data));
      const stats = parseStatsTrack(utf8((await ctx.zk.getData(statPath(path))).data));
      ctx.out(`Output quota for ${path} ${formatStatsTrack(limits)}`);
      ctx.out(`Output stat for ${path} ${formatStatsTrack(stats)}`);
      return { path, quota: Object.fromEntries(limits), stat: Object.fromEntries(stats) };
    } catch (err) {
      if (err instanceof NoNodeError) {
        ctx.warn(`quota for ${path} does not exist.`);
        return { path, quota: null };
      }
      throw wrapError(err, path);
    }
  },
};

const delquota: CommandDef = {
  name: 'delquota',
  optionStr: '[-n|-b|-N|-B] path',
  options: {
    opts: [flag('n', 'num soft quota'), flag('b', 'bytes soft quota'), flag('N', 'num hard quota'), flag('B', 'bytes hard quota')],
    groups: [{ names: ['n', 'b', 'N', 'B'], required: false }],
  },
  parse: minArgs(2, () => usageOf(delquota)),
  async run(ctx, p) {
    const path = p.args[1]!;
    const which = QUOTA_FLAGS.filter(([opt]) => p.opts.has(opt)).map(([, key]) => key);
    try {
      return await delQuota(ctx, path, which);
    } catch (err) {
      if (err instanceof NoNodeError) {
        ctx.warn(`quota for ${path} does not exist.`);
        return { path, ok: false };
      }
      throw wrapError(err, path);
    }
  },
};

async function delQuota(ctx: CommandContext, path: string, which: string[]): Promise<unknown> {
  const zk = ctx.zk;
  const parent = quotaPath(path);
  const limit = limitPath(path);
  checkPath(limit);
  if (!(await existsPath(zk, limit))) {
    ctx.out(`Quota does not exist for ${path}`);
    return { path, ok: true, existed: false };
  }
  const track = parseStatsTrack(utf8((await zk.getData(limit)).data));
  if (which.length === 0) {
    for (const c of (await zk.getChildren(parent)).children) await zk.delete(`${parent}/${c}`);
    await trimProcQuotas(zk, parent);
  } else {
    for (const key of which) track.set(key, -1);
    await zk.setData(limit, formatStatsTrack(track));
  }
  return { path, ok: true, existed: true };
}

/** Removes empty quota directories upwards, stopping at /zookeeper/quota. */
async function trimProcQuotas(zk: ZkClient, path: string): Promise<void> {
  for (let p = path; p !== QUOTA_ROOT; p = p.slice(0, p.lastIndexOf('/'))) {
    if ((await zk.getChildren(p)).children.length > 0) return;
    await zk.delete(p);
  }
}

// ------------------------------------------------------------------ table

export const SERVER_COMMANDS: readonly CommandDef[] = [
  close, create, del, deleteall, set, get, ls, getAcl, setAcl, stat, sync, setquota, listquota, delquota,
  addauth, reconfig, configCmd, removewatches, getEphemerals, getAllChildrenNumber, version, addWatch, whoami,
];

export const COMMANDS_BY_NAME: ReadonlyMap<string, CommandDef> = new Map(SERVER_COMMANDS.map((c) => [c.name, c]));

/** Parses a command's words with its options; parse failures become zkCli's messages. */
export function parseCommand(def: CommandDef, words: string[], ctx: Pick<CommandContext, 'warn' | 'out'>): ParsedArgs {
  try {
    const p = parseOptions(def.options, words);
    return def.parse ? def.parse(p, words, ctx) : p;
  } catch (err) {
    if (err instanceof CliParseError) throw new CliError(err.message);
    throw err;
  }
}
