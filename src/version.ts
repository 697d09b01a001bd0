// joind's version, from package.json. Read at run time rather than imported, so that one path works from
// src/ and from dist/src/ alike: the nearest package.json above this file is joind's.
import fs from 'node:fs';
import path from 'node:path';

function readVersion(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { version?: unknown };
      if (typeof pkg.version !== 'string') throw new Error(`${file} has no version`);
      return pkg.version;
    }
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${__dirname}`);
  }
}

export const VERSION: string = readVersion();
