import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseZooCfg } from '../../src/config';
import { ADMIN_ONLY_FOUR_LETTER_WORDS, DEFAULT_FOUR_LETTER_WHITELIST, FOUR_LETTER_WORDS } from '../../src/fourlw/commands';
import { defaultServerOptions } from '../../src/server/options';
import { optionsFromConfig } from '../../src/server/fromConfig';
import { memberConfig } from '../../src/cli/ensemble';
import { startCliServer, fourLetter, type CliServer } from '../harness/cli';
import { freePort } from '../../scripts/lib/zk-process';

/**
 * The four-letter words a server answers by default are the same however it was started (flags, a
 * zoo.cfg without a whitelist, `zabkeeper ensemble`), and never include the admin-only words that
 * list other clients' sessions and watched paths.
 */

const refused = (w: string) => `${w} is not executed because it is not in the whitelist.\n`;

describe('default four-letter-word whitelist', () => {
  test('one default, admin-only words excluded', () => {
    for (const w of ADMIN_ONLY_FOUR_LETTER_WORDS) expect(DEFAULT_FOUR_LETTER_WHITELIST).not.toContain(w);
    const fromFile = optionsFromConfig(parseZooCfg('dataDir=/tmp/x\nclientPort=2181\n').config).fourLetterWhitelist;
    const fromFlags = defaultServerOptions({ dataDir: '/tmp/x' }).fourLetterWhitelist;
    expect(fromFile).toEqual(new Set(DEFAULT_FOUR_LETTER_WHITELIST));
    expect(fromFlags).toEqual(new Set(DEFAULT_FOUR_LETTER_WHITELIST));
    // `zabkeeper ensemble` (npm start) writes no whitelist: its members get the same default.
    const cfg = memberConfig({ servers: 3, basePort: 2181, dataDir: '/tmp/x', tickTime: 2000, host: '127.0.0.1' }, 1);
    expect(cfg).not.toContain('4lw.commands.whitelist');
  });

  describe('a real server process', () => {
    const dirs: string[] = [];
    const servers: CliServer[] = [];
    afterAll(async () => {
      await Promise.all(servers.map((s) => s.stop()));
      for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    });

    async function answers(s: CliServer): Promise<Record<string, 'runs' | 'refused'>> {
      const out: Record<string, 'runs' | 'refused'> = {};
      // crst/srst/stmk change state and are not in the default either way; the table covers the rest.
      for (const w of FOUR_LETTER_WORDS.filter((x) => x !== 'stmk')) out[w] = (await fourLetter(s.port, w)) === refused(w) ? 'refused' : 'runs';
      return out;
    }

    test('started with flags only and with a zoo.cfg without a whitelist: the same words answer', async () => {
      const flagsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-4lw-flags-'));
      const cfgDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-4lw-cfg-'));
      dirs.push(flagsDir, cfgDir);
      const [p1, p2] = [await freePort(), await freePort()];
      const cfg = path.join(cfgDir, 'zoo.cfg');
      fs.writeFileSync(cfg, `tickTime=2000\ndataDir=${cfgDir}/data\nclientPort=${p2}\nclientPortAddress=127.0.0.1\n`);
      servers.push(await startCliServer(['--port', String(p1), '--data-dir', path.join(flagsDir, 'data')], p1));
      servers.push(await startCliServer(['--config', cfg], p2));
      const [byFlags, byFile] = [await answers(servers[0]), await answers(servers[1])];
      expect(byFlags).toEqual(byFile);
      const expected = Object.fromEntries(FOUR_LETTER_WORDS.filter((x) => x !== 'stmk').map((w) => [w, DEFAULT_FOUR_LETTER_WHITELIST.includes(w) ? 'runs' : 'refused']));
      expect(byFlags).toEqual(expected);
      for (const w of ADMIN_ONLY_FOUR_LETTER_WORDS) expect(byFlags[w]).toBe('refused');
    });
  });
});
