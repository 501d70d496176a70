/** The report as a plain text table for the terminal (and the README). */
import type { Row } from './rows';

const rate = (v: number | null): string => (v === null ? '-' : v >= 1e6 ? `${(v / 1e6).toFixed(2)} M` : v >= 1e3 ? `${(v / 1e3).toFixed(1)} k` : v.toFixed(0));
const num = (v: number | null, digits = 0): string => (v === null ? '-' : v.toFixed(digits));

const COLUMNS: [string, (r: Row) => string][] = [
  ['system', (r) => r.key],
  ['pubs', (r) => String(r.publishers)],
  ['subs', (r) => String(r.subscribers)],
  ['size', (r) => String(r.size)],
  ['delivered/s', (r) => (r.flagged ? 'FLAGGED' : rate(r.deliveredPerSec))],
  ['slowest/s', (r) => rate(r.slowestPerSec)],
  ['lost', (r) => String(r.lost)],
  ['dup', (r) => String(r.duplicated)],
  ['reord', (r) => String(r.reordered)],
  ['p50 us', (r) => num(r.p50Micros, 1)],
  ['p99 us', (r) => num(r.p99Micros, 1)],
  ['p99.9 us', (r) => num(r.p999Micros, 1)],
  ['broker cpu s', (r) => num(r.brokerCpuSec, 2)],
  ['client cpu s', (r) => num(r.clientCpuSec, 2)],
  ['broker MiB', (r) => (r.brokerRssKiB === null ? '-' : (r.brokerRssKiB / 1024).toFixed(0))],
];

/** Markdown-compatible: the same text reads as a table on a terminal and renders as one in a README. */
export function formatTable(rows: Row[]): string {
  const cells = rows.map((r) => COLUMNS.map(([, f]) => f(r)));
  const widths = COLUMNS.map(([h], c) => Math.max(h.length, ...cells.map((row) => row[c].length)));
  const line = (values: string[]): string => `| ${values.map((v, c) => (c < 1 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join(' | ')} |`;
  const notes = rows.filter((r) => r.flagged || r.errors.length).map((r) => `- ${r.key} ${r.subscribers}x${r.size} B: ${[r.flagged, ...r.errors].filter(Boolean).join('; ')}`);
  return [line(COLUMNS.map(([h]) => h)), `|${widths.map((w, c) => (c < 1 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...cells.map(line), ...(notes.length ? ['', ...notes] : [])].join('\n');
}
