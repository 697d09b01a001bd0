import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { MESSAGES } from '../../src/log/messages';

test('docs/log-messages.md lists every message id of the catalogue with its level', () => {
  const doc = fs.readFileSync(path.resolve(__dirname, '../../../docs/log-messages.md'), 'utf8');
  for (const [id, m] of Object.entries(MESSAGES)) {
    assert.match(doc, new RegExp(`\\| \`${id}\` \\| ${m.level} \\|`), `${id} missing or with another level`);
  }
});

test('outside src/log, no source file writes a msgId itself: every log line goes through logEvent', () => {
  const src = path.resolve(__dirname, '../../../src');
  const offenders: string[] = [];
  const scan = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (file !== path.join(src, 'log')) scan(file);
      } else if (entry.name.endsWith('.ts')) {
        fs.readFileSync(file, 'utf8')
          .split('\n')
          .forEach((line, i) => {
            if (/\bmsgId\b/.test(line)) offenders.push(`${path.relative(src, file)}:${i + 1}: ${line.trim()}`);
          });
      }
    }
  };
  scan(src);
  assert.ok(fs.existsSync(path.join(src, 'server', 'server.ts')), `${src} is not the source tree`);
  assert.deepEqual(offenders, [], 'log through logEvent/logEventTo (src/log/logger.ts) with a catalogued id');
});
