/** Small helpers every benchmark's report shares: medians, rates, a Markdown table, the results file. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** 1234567 → "1.23 M/s", 12345 → "12.3 k/s". */
export function rate(perSecond: number): string {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)} M/s`;
  if (perSecond >= 1e4) return `${(perSecond / 1e3).toFixed(0)} k/s`;
  return `${(perSecond / 1e3).toFixed(1)} k/s`;
}

export const sizeLabel = (bytes: number): string => (bytes >= 1024 && bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} B`);

/** A Markdown table with padded columns, readable both rendered and as plain text. */
export function markdownTable(header: string[], rows: string[][]): string {
  const widths = header.map((_, c) => Math.max(...[header, ...rows].map((row) => (row[c] ?? '').length)));
  const line = (row: string[]): string => `| ${row.map((cell, c) => cell.padEnd(widths[c])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** The machine a result was measured on. */
export function machine(): { node: string; cpus: number; cpuModel: string; kernel: string; platform: string } {
  const cpus = os.cpus();
  return { node: process.version, cpus: cpus.length, cpuModel: cpus[0]?.model ?? 'unknown', kernel: os.release(), platform: `${os.platform()} ${os.arch()}` };
}

/** The package's root directory (benchmarks run from dist/bench/). */
export function packageRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

/** bench/results/<benchmark>.json in the source tree. */
export const resultsFile = (benchmark: string): string => path.join(packageRoot(), 'bench', 'results', `${benchmark}.json`);

/** Writes the report as pretty JSON; returns where it went. */
export function writeResults(benchmark: string, report: object): string {
  const file = resultsFile(benchmark);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}
