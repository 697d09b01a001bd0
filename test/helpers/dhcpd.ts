// ISC dhcpd's own parser as a check of the dhcpd.conf joind writes (joind export --format dhcpd-conf):
// `dhcpd -t` reads the file and exits, neither serving nor opening a lease file. Unit tests skip when
// dhcpd is not installed; the system tests install it.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from './tmp';

/** dhcpd's path, or undefined when it is not installed. */
export function findDhcpd(): string | undefined {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin']) {
    const file = path.join(dir || '.', 'dhcpd');
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Runs `dhcpd -t -4 -cf FILE` on the text. */
export function dhcpdTest(dhcpd: string, text: string): { ok: boolean; output: string } {
  const file = path.join(tempDir('joind-dhcpd-t-'), 'dhcpd.conf');
  fs.writeFileSync(file, text);
  const r = spawnSync(dhcpd, ['-t', '-4', '-cf', file], { encoding: 'utf8', timeout: 20_000 });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}${r.error ? String(r.error) : ''}` };
}
