/**
 * Commands beyond zkCli that zk-shell users miss: tree, find, grep, du, cp (node to node, to and
 * from JSON files), diff, edit (in $EDITOR, written back with a version check), watch (live
 * events), and the mntr/srvr four-letter words of the connected server. Like every command they
 * print text, and with --json the returned object instead. They are not in `help` (which prints
 * zkCli's list exactly); `src/shell/README.md` documents them.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BadVersionError, NoNodeError, type ZkClient } from '../client';
import { fourLetter, parseMntr, parseSrvr } from '../console/probe';
import { CliError, SERVER_COMMANDS, wrapError, usageOf, type CommandContext, type CommandDef } from './commands';

const flag = (name: string, description: string) => ({ name, hasArg: false, description });
const valued = (name: string, description: string) => ({ name, hasArg: true, description });
const join = (p: string, c: string) => (p === '/' ? `/${c}` : `${p}/${c}`);

function need(def: CommandDef, args: string[], n: number): void {
  if (args.length < n) throw new CliError(usageOf(def));
}

async function call<T>(p: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw wrapError(err, p);
  }
}

/** Depth-first walk (children sorted), calling visit(path, depth); a node gone meanwhile is skipped. */
async function walk(zk: ZkClient, root: string, visit: (p: string, depth: number) => Promise<void> | void, maxDepth = Infinity, depth = 0): Promise<void> {
  await visit(root, depth);
  if (depth >= maxDepth) return;
  let children: string[];
  try {
    ({ children } = await zk.getChildren(root));
  } catch (err) {
    if (err instanceof NoNodeError) return;
    throw err;
  }
  for (const c of children.sort()) await walk(zk, join(root, c), visit, maxDepth, depth + 1);
}

/** `*` and `?` globs against a node name. */
function glob(pattern: string): RegExp {
  return new RegExp('^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$');
}

const tree: CommandDef = {
  name: 'tree',
  optionStr: '[-d depth] path',
  options: { opts: [valued('d', 'depth')] },
  async run(ctx, p) {
    need(tree, p.args, 2);
    const root = p.args[1]!;
    const depth = p.opts.has('d') ? Number(p.opts.get('d')) : Infinity;
    const lines: string[] = [];
    await call(root, () => ctx.zk.exists(root).then((r) => { if (!r.stat) throw new NoNodeError(undefined, { path: root }); }));
    await walk(ctx.zk, root, (q, d) => void lines.push(d === 0 ? q : `${'│  '.repeat(d - 1)}├─ ${q.slice(q.lastIndexOf('/') + 1)}`), depth);
    for (const l of lines) ctx.out(l);
    const paths: string[] = [];
    await walk(ctx.zk, root, (q) => void paths.push(q), depth);
    return { path: root, paths };
  },
};

const find: CommandDef = {
  name: 'find',
  optionStr: '[-n name-glob] [-e] path',
  options: { opts: [valued('n', 'name glob'), flag('e', 'ephemerals only')] },
  async run(ctx, p) {
    need(find, p.args, 2);
    const root = p.args[1]!;
    const name = p.opts.has('n') ? glob(p.opts.get('n') as string) : undefined;
    const found: string[] = [];
    await walk(ctx.zk, root, async (q) => {
      if (name && !name.test(q.slice(q.lastIndexOf('/') + 1))) return;
      if (p.opts.has('e') && ((await ctx.zk.exists(q)).stat?.ephemeralOwner ?? 0n) === 0n) return;
      found.push(q);
      ctx.out(q);
    });
    return { path: root, found };
  },
};

const grep: CommandDef = {
  name: 'grep',
  optionStr: '[-i] pattern path',
  options: { opts: [flag('i', 'ignore case')] },
  async run(ctx, p) {
    need(grep, p.args, 3);
    const re = new RegExp(p.args[1]!, p.opts.has('i') ? 'i' : '');
    const root = p.args[2]!;
    const matches: { path: string; line: string }[] = [];
    await walk(ctx.zk, root, async (q) => {
      let data: Buffer | null;
      try {
        ({ data } = await ctx.zk.getData(q));
      } catch (err) {
        if (err instanceof NoNodeError) return;
        throw err;
      }
      for (const line of (data?.toString('utf8') ?? '').split('\n')) {
        if (!re.test(line)) continue;
        matches.push({ path: q, line });
        ctx.out(`${q}: ${line}`);
      }
    });
    return { pattern: p.args[1], path: root, matches };
  },
};

const du: CommandDef = {
  name: 'du',
  optionStr: 'path',
  options: { opts: [] },
  async run(ctx, p) {
    need(du, p.args, 2);
    const root = p.args[1]!;
    const { children } = await call(root, () => ctx.zk.getChildren(root));
    const rows: { path: string; bytes: number; nodes: number }[] = [];
    const size = async (top: string) => {
      const row = { path: top, bytes: 0, nodes: 0 };
      await walk(ctx.zk, top, async (q) => {
        const { stat } = await ctx.zk.exists(q);
        if (!stat) return;
        row.bytes += stat.dataLength;
        row.nodes++;
      });
      return row;
    };
    for (const c of children.sort()) rows.push(await size(join(root, c)));
    const total = await size(root);
    for (const r of [...rows, total]) ctx.out(`${r.bytes}\t${r.nodes}\t${r.path}`);
    return { path: root, bytes: total.bytes, nodes: total.nodes, children: rows };
  },
};

/** A subtree as JSON: data as text when it is valid UTF-8, else base64. */
export interface JsonNode {
  data?: string | null;
  base64?: string;
  children?: Record<string, JsonNode>;
}

async function exportTree(zk: ZkClient, p: string): Promise<JsonNode> {
  const { data } = await zk.getData(p);
  const node: JsonNode = {};
  const text = data?.toString('utf8');
  if (data === null) node.data = null;
  else if (Buffer.from(text!, 'utf8').equals(data)) node.data = text!;
  else node.base64 = data.toString('base64');
  const { children } = await zk.getChildren(p);
  if (children.length > 0) {
    node.children = {};
    for (const c of children.sort()) node.children[c] = await exportTree(zk, join(p, c));
  }
  return node;
}

async function importTree(zk: ZkClient, p: string, node: JsonNode): Promise<number> {
  const data = node.base64 !== undefined ? Buffer.from(node.base64, 'base64') : (node.data ?? null);
  try {
    await zk.create(p, data, { createParents: true });
  } catch (err) {
    if (!(err instanceof Error && err.name === 'NodeExistsError')) throw err;
    await zk.setData(p, data);
  }
  let n = 1;
  for (const [name, c] of Object.entries(node.children ?? {})) n += await importTree(zk, join(p, name), c);
  return n;
}

/** `json:FILE` names a local JSON file (znode names may end in .json too). */
const jsonFile = (s: string): string | undefined => (s.startsWith('json:') ? s.slice(5) : undefined);

const cp: CommandDef = {
  name: 'cp',
  optionStr: 'src dst (znode paths; json:FILE for a JSON file on either side)',
  options: { opts: [] },
  async run(ctx, p) {
    need(cp, p.args, 3);
    const [src, dst] = [p.args[1]!, p.args[2]!];
    const [srcFile, dstFile] = [jsonFile(src), jsonFile(dst)];
    if (srcFile !== undefined && dstFile !== undefined) throw new CliError('cp: one side must be a znode path');
    if (dstFile !== undefined) {
      const tree = await call(src, () => exportTree(ctx.zk, src));
      fs.writeFileSync(dstFile, JSON.stringify(tree, null, 2) + '\n');
      ctx.out(`${src} -> ${dstFile}`);
      return { from: src, to: dstFile };
    }
    const tree: JsonNode = srcFile !== undefined ? (JSON.parse(fs.readFileSync(srcFile, 'utf8')) as JsonNode) : await call(src, () => exportTree(ctx.zk, src));
    const nodes = await call(dst, () => importTree(ctx.zk, dst, tree));
    ctx.out(`${src} -> ${dst} (${nodes} nodes)`);
    return { from: src, to: dst, nodes };
  },
};

async function flatten(zk: ZkClient, root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  await walk(zk, root, async (q) => {
    try {
      const { data } = await zk.getData(q);
      out.set(q === root ? '.' : q.slice(root === '/' ? 1 : root.length + 1), data?.toString('base64') ?? '');
    } catch (err) {
      if (!(err instanceof NoNodeError)) throw err;
    }
  });
  return out;
}

const diff: CommandDef = {
  name: 'diff',
  optionStr: 'pathA pathB',
  options: { opts: [] },
  async run(ctx, p) {
    need(diff, p.args, 3);
    const [a, b] = [p.args[1]!, p.args[2]!];
    const [ta, tb] = [await call(a, () => flatten(ctx.zk, a)), await call(b, () => flatten(ctx.zk, b))];
    const onlyA = [...ta.keys()].filter((k) => !tb.has(k)).sort();
    const onlyB = [...tb.keys()].filter((k) => !ta.has(k)).sort();
    const changed = [...ta.keys()].filter((k) => tb.has(k) && ta.get(k) !== tb.get(k)).sort();
    for (const k of onlyA) ctx.out(`- ${k}`);
    for (const k of onlyB) ctx.out(`+ ${k}`);
    for (const k of changed) ctx.out(`~ ${k}`);
    if (onlyA.length + onlyB.length + changed.length === 0) ctx.out('no differences');
    return { a, b, onlyInA: onlyA, onlyInB: onlyB, changed };
  },
};

/**
 * Runs the editor without blocking the event loop: the session's pings must keep flowing however
 * long the user edits (spawnSync froze them, and the save after a slow edit met ConnectionLoss).
 * Our stdin is paused meanwhile so the editor alone reads the terminal.
 */
async function runEditor(command: string): Promise<number | string> {
  // Only a stdin being read (the interactive shell) is paused and resumed: resuming one nobody
  // read would keep a one-shot `shell edit` waiting on its stdin.
  const wasFlowing = process.stdin.readableFlowing === true;
  if (wasFlowing) process.stdin.pause();
  try {
    return await new Promise<number | string>((resolve, reject) => {
      const child = spawn(command, { shell: true, stdio: 'inherit' });
      child.once('error', reject);
      child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
    });
  } finally {
    if (wasFlowing) process.stdin.resume();
  }
}

const edit: CommandDef = {
  name: 'edit',
  optionStr: 'path',
  options: { opts: [] },
  async run(ctx, p) {
    need(edit, p.args, 2);
    const target = p.args[1]!;
    const { data, stat } = await call(target, () => ctx.zk.getData(target));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zabkeeper-edit-'));
    try {
      const file = path.join(dir, path.basename(target) || 'root');
      fs.writeFileSync(file, data ?? Buffer.alloc(0));
      const editor = process.env.VISUAL || process.env.EDITOR || 'vi';
      const status = await runEditor(`${editor} "${file}"`);
      if (status !== 0) throw new CliError(`edit: ${editor} exited with ${status}; nothing written`);
      const edited = fs.readFileSync(file);
      if (data !== null && edited.equals(data)) {
        ctx.out('unchanged');
        return { path: target, changed: false, version: stat.version };
      }
      try {
        const next = await ctx.zk.setData(target, edited, { version: stat.version });
        ctx.out(`${target}: version ${stat.version} -> ${next.version}`);
        return { path: target, changed: true, version: next.version };
      } catch (err) {
        if (err instanceof BadVersionError) throw new CliError(`edit: ${target} changed while you were editing (version ${stat.version} is stale); nothing written`, 1, err.code, target);
        throw wrapError(err, target);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};

const watchCmd: CommandDef = {
  name: 'watch',
  optionStr: '[-n count] path',
  options: { opts: [valued('n', 'stop after this many events')] },
  async run(ctx, p) {
    need(watchCmd, p.args, 2);
    const root = p.args[1]!;
    const max = p.opts.has('n') ? Number(p.opts.get('n')) : Infinity;
    const w = await call(root, () => ctx.zk.addWatch(root, { mode: 'persistentRecursive', resumable: true, overflow: 'dropOldest' }));
    const events: { type: string; path: string; zxid: string | null }[] = [];
    try {
      for await (const ev of w) {
        if (ev.type === 'none') continue;
        const zxid = ev.zxid !== undefined && ev.zxid >= 0n ? `0x${ev.zxid.toString(16)}` : null;
        events.push({ type: ev.type, path: ev.path, zxid });
        ctx.out(`${ev.type} ${ev.path}${zxid ? ` ${zxid}` : ''}`);
        if (events.length >= max) break;
      }
    } finally {
      await w.close();
    }
    return { path: root, events };
  },
};

/** mntr/srvr of the server this session is connected to. */
function fourLetterCommand(word: 'mntr' | 'srvr'): CommandDef {
  const def: CommandDef = {
    name: word,
    optionStr: '',
    options: { opts: [] },
    async run(ctx: CommandContext) {
      // Like every other command, wait for the session (a one-shot command may run before it is up).
      await ctx.zk.connect();
      const hostPort = ctx.zk.connectedHost;
      if (!hostPort) throw new CliError('Not connected');
      const at = hostPort.lastIndexOf(':');
      const text = await fourLetter(Number(hostPort.slice(at + 1)), word, 5000, hostPort.slice(0, at));
      for (const l of text.trimEnd().split('\n')) ctx.out(l);
      if (word === 'mntr') return { server: hostPort, metrics: parseMntr(text) };
      const s = parseSrvr(text);
      return { server: hostPort, mode: s.mode ?? null, zxid: s.zxid !== undefined ? `0x${s.zxid.toString(16)}` : null, text };
    },
  };
  return def;
}

export const EXTRA_COMMANDS: readonly CommandDef[] = [tree, find, grep, du, cp, diff, edit, watchCmd, fourLetterCommand('mntr'), fourLetterCommand('srvr')];

/** Every command the shell dispatches: zkCli's and the extras. */
export const ALL_COMMANDS_BY_NAME: ReadonlyMap<string, CommandDef> = new Map([...SERVER_COMMANDS, ...EXTRA_COMMANDS].map((c) => [c.name, c]));

