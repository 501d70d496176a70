/**
 * `msgmux bench`: the plan from the flags, the run, and the report. Unknown
 * --systems entries are a usage error, and so is naming a system that takes
 * one publisher with --publishers above 1 (unnamed, such systems are skipped).
 */
import { defaultPlan } from '../bench/plan';
import { runBench, writeReport } from '../bench/run';
import { SYSTEMS, selectSystems } from '../bench/systems';
import { ErrorCode, MsgmuxError } from '../errors';
import type { BenchFlags } from './bench-args';

export async function bench(flags: BenchFlags): Promise<number> {
  for (const name of flags.systems) {
    if (selectSystems([name]).length === 0) {
      throw new MsgmuxError(ErrorCode.USAGE, `msgmux bench: no system ${JSON.stringify(name)}; known: ${SYSTEMS.map((s) => s.key).join(', ')} (see msgmux bench --help)`);
    }
  }
  if ((flags.publishers ?? 1) > 1) {
    const single = selectSystems(flags.systems).filter((s) => s.onePublisher !== null);
    if (flags.systems.length > 0 && single.length > 0) {
      const many = SYSTEMS.filter((s) => s.onePublisher === null).map((s) => s.key);
      throw new MsgmuxError(ErrorCode.USAGE, `msgmux bench: --publishers ${flags.publishers} needs systems that take several publisher processes (${many.join(', ')}); ${single.map((s) => `${s.key}: ${s.onePublisher}`).join('; ')}`);
    }
  }
  const plan = defaultPlan(flags.quick, flags.systems);
  if (flags.publishers) plan.publishers = flags.publishers;
  if (flags.queueDepth) plan.queueDepth = flags.queueDepth;
  if (flags.subscribers) plan.subscribers = flags.subscribers;
  if (flags.readers) plan.readers = flags.readers;
  if (flags.sizes) plan.sizes = flags.sizes;
  if (flags.rounds) plan.rounds = flags.rounds;
  if (flags.count) {
    plan.count = flags.count;
    plan.warmup = Math.max(1, Math.round(flags.count / 10));
    plan.inprocCount = Math.max(plan.inprocCount, flags.count);
  }
  const log = (line: string): void => void process.stdout.write(`${line}\n`);
  const report = await runBench(plan, log);
  await writeReport(report, { json: flags.json, svg: flags.svg }, log);
  const failed = report.rows.filter((r) => r.errors.length > 0 && r.rounds === 0);
  return failed.length > 0 && failed.length === report.rows.length ? 1 : 0;
}
