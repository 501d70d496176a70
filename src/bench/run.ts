/**
 * `msgmux bench`: every selected system, round after round, the rounds
 * interleaved across systems so that noise on the machine hits them all
 * alike. Per round each process system gets a fresh broker, and every
 * (subscribers, size) group a fresh set of processes. A system that cannot
 * run here is skipped with its reason; a group that fails is reported in its
 * row and the run goes on. Everything it made is removed however it ends.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { onCleanup } from './cleanup';
import { renderChart } from './chart';
import type { GroupSample } from './group';
import { LOSSLESS_IDLE_MS, LOSSY_IDLE_MS, runGroup } from './group';
import { phasesFor, type Plan } from './plan';
import { Progress } from './progress';
import { inprocRow, processRow, type Row, type RowKey } from './rows';
import type { BenchSystem, InprocSample } from './system';
import { selectSystems } from './systems';
import { formatTable } from './table';

export interface BenchReport {
  startedAt: string;
  seconds: number;
  machine: { cpus: string; cores: number; memoryGiB: number; kernel: string; node: string; loadAverage: number[] };
  plan: Plan;
  rows: Row[];
  skipped: { system: string; reason: string }[];
}

const keyOf = (s: BenchSystem, subscribers: number, size: number, publishers: number): RowKey =>
  ({ system: s.system, key: s.key, clients: s.clients, publishers, subscribers, size, lossless: s.lossless });

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0];

export async function runBench(plan: Plan, log: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<BenchReport> {
  const startedAt = new Date();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'msgmux-bench-'));
  const removeDir = onCleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
  const skipped: BenchReport['skipped'] = [];
  const systems: BenchSystem[] = [];
  for (const system of selectSystems(plan.systems)) {
    // A system that takes one publisher sits out a run with several (`msgmux bench` refuses it when named).
    if (plan.publishers > 1 && system.onePublisher !== null) {
      skipped.push({ system: system.key, reason: `--publishers ${plan.publishers}: ${system.onePublisher}` });
      continue;
    }
    try {
      await system.prepare(plan);
      systems.push(system);
    } catch (err) {
      skipped.push({ system: system.key, reason: message(err) });
    }
  }
  for (const s of skipped) log(`skipped ${s.system}: ${s.reason}`);

  const groupsOf = (s: BenchSystem): [number, number][] =>
    (s.kind === 'inproc' ? plan.readers : plan.subscribers).flatMap((n) => plan.sizes.map((size): [number, number] => [n, size]));
  const samples = new Map<string, { key: RowKey; process: GroupSample[]; inproc: InprocSample[]; errors: string[] }>();
  const slot = (s: BenchSystem, n: number, size: number) => {
    const id = `${s.key} ${n} ${size}`;
    if (!samples.has(id)) samples.set(id, { key: keyOf(s, n, size, s.kind === 'inproc' ? 1 : plan.publishers), process: [], inproc: [], errors: [] });
    return samples.get(id)!;
  };
  for (const s of systems) for (const [n, size] of groupsOf(s)) slot(s, n, size);
  const progress = new Progress(plan.rounds * systems.reduce((sum, s) => sum + groupsOf(s).length, 0));
  let groupId = 0;
  try {
    for (let round = 0; round < plan.rounds; round++) {
      for (const system of systems) {
        if (system.kind === 'inproc') {
          for (const [readers, size] of groupsOf(system)) {
            progress.step(`round ${round + 1}/${plan.rounds}: ${system.key}, ${readers} readers, ${size} B`);
            await system.measure(readers, size, plan.inprocCount).then(
              (sample) => slot(system, readers, size).inproc.push(sample),
              (err) => slot(system, readers, size).errors.push(`round ${round + 1}: ${message(err)}`),
            );
          }
          continue;
        }
        let broker;
        try {
          broker = await system.start(dir, plan);
        } catch (err) {
          for (const [n, size] of groupsOf(system)) {
            progress.step(`round ${round + 1}/${plan.rounds}: ${system.key} (no broker)`);
            slot(system, n, size).errors.push(`round ${round + 1}: broker did not start: ${message(err)}`);
          }
          continue;
        }
        try {
          for (const [n, size] of groupsOf(system)) {
            progress.step(`round ${round + 1}/${plan.rounds}: ${system.key}, ${n} subscribers, ${size} B`);
            const id = `g${++groupId}`;
            const groupDir = path.join(dir, id);
            fs.mkdirSync(groupDir);
            const group = { ...system.group({ broker, subscribers: n, size, dir: groupDir, id: `${process.pid}-${id}` }), publishers: plan.publishers };
            const phases = phasesFor(plan, round);
            const sample = system.runGroup
              ? system.runGroup(group, broker.pid, phases, size, groupDir)
              : runGroup(group, broker.pid, phases, size, groupDir, system.lossless ? LOSSLESS_IDLE_MS : LOSSY_IDLE_MS);
            await sample.then(
              (sample) => slot(system, n, size).process.push(sample),
              (err) => {
                slot(system, n, size).errors.push(`round ${round + 1}: ${message(err)}`);
                progress.note(`${system.key} ${n}x${size} B, round ${round + 1}: ${message(err)}`);
              },
            );
          }
        } finally {
          await broker.stop().catch(() => undefined);
        }
      }
    }
  } finally {
    progress.end();
    removeDir();
  }
  const rows = [...samples.values()].map((s) => (s.key.clients === 'threads' ? inprocRow(s.key, s.inproc, s.errors) : processRow(s.key, s.process, s.errors)));
  return {
    startedAt: startedAt.toISOString(),
    seconds: (Date.now() - startedAt.getTime()) / 1000,
    machine: {
      cpus: os.cpus()[0]?.model ?? 'unknown',
      cores: os.cpus().length,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      kernel: os.release(),
      node: process.version,
      loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
    },
    plan,
    rows,
    skipped,
  };
}

/** Writes what was asked for: the table (always), the JSON report, the SVG chart. */
export async function writeReport(report: BenchReport, out: { json?: string; svg?: string }, log: (line: string) => void): Promise<void> {
  log(formatTable(report.rows));
  if (out.json) {
    fs.writeFileSync(out.json, `${JSON.stringify(report, null, 2)}\n`);
    log(`wrote ${out.json}`);
  }
  if (out.svg) {
    try {
      const m = report.machine;
      fs.writeFileSync(out.svg, await renderChart(report.rows, `msgmux bench, ${m.cores} cores, ${m.cpus}, load ${m.loadAverage[0]}`));
      log(`wrote ${out.svg}`);
    } catch (err) {
      log(`no chart: ${message(err)}`);
    }
  }
}
