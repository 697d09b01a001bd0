import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatColumns } from '../../src/util/columns';

test('formatColumns: columns start at the same offset on every line, no trailing blanks', () => {
  const text = formatColumns([
    ['ADDRESS', 'STATE', 'NAME'],
    ['10.1.0.100', 'active', 'amber'],
    ['10.1.0.7', 'expired', '-'],
  ]);
  const lines = text.split('\n');
  assert.equal(lines.pop(), '', 'ends with one newline');
  assert.deepEqual(lines, ['ADDRESS     STATE    NAME', '10.1.0.100  active   amber', '10.1.0.7    expired  -']);
  assert.equal(formatColumns([]), '');
});
