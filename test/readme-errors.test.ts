/** The README's error table lists every code of ERROR_CODES, with the same description, and no other. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ERROR_CODES } from '../src/errors';

test('the README error table matches ERROR_CODES', () => {
  const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
  const rows = new Map<string, string>();
  for (const match of readme.matchAll(/^\| `(ERR_MSGMUX_[A-Z_]+)` \| (.*) \|$/gm)) rows.set(match[1], match[2].replace(/\\\|/g, '|'));
  assert.deepEqual(Object.fromEntries(rows), { ...ERROR_CODES });
});
