/** The package's version, read from its package.json (two levels above dist/src/cli). */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export function packageVersion(): string {
  const file = path.join(__dirname, '..', '..', '..', 'package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}
