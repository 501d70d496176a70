/** Runs one group given as JSON on the command line (in whatever namespace it was started in) and prints its sample. */
import { runGroup } from './group';
import type { Phase } from './plan';
import type { Group } from './system';

const { group, phases, size, dir } = JSON.parse(process.argv[2]) as { group: Group; phases: Phase[]; size: number; dir: string };
runGroup(group, undefined, phases, size, dir).then(
  (sample) => {
    process.stdout.write(`${JSON.stringify(sample)}\n`);
    process.exit(0);
  },
  (err: Error) => {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  },
);
