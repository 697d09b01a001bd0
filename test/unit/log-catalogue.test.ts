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
