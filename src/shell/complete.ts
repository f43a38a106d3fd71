/**
 * Tab completion for the interactive shell (node:readline's completer contract: resolve to
 * [candidates, the substring they complete]). The first word completes against command names, a
 * word starting with '/' against the children of its parent znode, a word starting with '-'
 * against the command's flags. Pure apart from the injected child lister.
 */
export interface CompleterDeps {
  commands: readonly string[];
  /** The flags a command accepts, with their dash (`-s`). */
  flags(command: string): readonly string[];
  /** Children of a znode; rejects or resolves [] when it cannot be listed. */
  listChildren(path: string): Promise<readonly string[]>;
}

export async function completeLine(line: string, deps: CompleterDeps): Promise<[string[], string]> {
  const m = /(\S*)$/.exec(line)!;
  const word = m[1]!;
  const before = line.slice(0, line.length - word.length);
  if (before.trim() === '') return [deps.commands.filter((c) => c.startsWith(word)), word];
  if (word.startsWith('/')) return [await completePath(word, deps), word];
  if (word.startsWith('-')) {
    const command = before.trim().split(/\s+/)[0]!;
    return [deps.flags(command).filter((f) => f.startsWith(word)), word];
  }
  return [[], word];
}

async function completePath(word: string, deps: CompleterDeps): Promise<string[]> {
  const slash = word.lastIndexOf('/');
  const parent = slash === 0 ? '/' : word.slice(0, slash);
  const prefix = word.slice(slash + 1);
  let children: readonly string[];
  try {
    children = await deps.listChildren(parent);
  } catch {
    return [];
  }
  const base = parent === '/' ? '/' : `${parent}/`;
  return children.filter((c) => c.startsWith(prefix)).sort().map((c) => base + c);
}

/** Caches child lists briefly so repeated TABs do not each cost a round trip. */
export function cachedLister(list: (path: string) => Promise<readonly string[]>, ttlMs: number, now: () => number): (path: string) => Promise<readonly string[]> {
  const cache = new Map<string, { at: number; children: Promise<readonly string[]> }>();
  return (path) => {
    const hit = cache.get(path);
    if (hit && now() - hit.at < ttlMs) return hit.children;
    const children = list(path);
    cache.set(path, { at: now(), children });
    children.catch(() => cache.delete(path));
    return children;
  };
}
