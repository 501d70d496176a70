/**
 * The `msgmux` command: parses the command line and runs one command. Errors print their code and exit 1; usage errors exit 2.
 * Each command's module is loaded only when it runs: the daemon's resident memory should not carry the benchmark harness.
 */
import { parseCommandLine } from './args';
import { ErrorCode } from '../errors';
import { packageVersion } from './version';

async function run(argv: string[]): Promise<number> {
  const command = parseCommandLine(argv);
  switch (command.command) {
    case 'help':
      process.stdout.write(command.text + '\n');
      return 0;
    case 'version':
      process.stdout.write(`msgmux ${packageVersion()}\n`);
      return 0;
    case 'start':
      return (await import('./start.js')).start(command.configFile, command.flags);
    case 'pub':
      await (await import('./pub.js')).pub(command);
      return 0;
    case 'sub':
      return (await import('./sub.js')).sub(command);
    case 'stats':
      return (await import('./stats.js')).stats(command);
    case 'bench':
      return (await import('./bench.js')).bench(command);
  }
}

export function main(argv: string[]): void {
  run(argv).then(
    (code) => {
      process.exitCode = code;
      // Worker threads or timers of a finished command must not keep the process alive.
      setImmediate(() => process.exit(code));
    },
    (err: Error & { code?: string }) => {
      process.stderr.write(`msgmux: ${err.message}${err.code ? ` (${err.code})` : ''}\n`);
      process.exit(err.code === ErrorCode.USAGE ? 2 : 1);
    },
  );
}
