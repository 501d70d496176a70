/** The `msgmux` command: parses the command line and runs one command. Errors print their code and exit 1; usage errors exit 2. */
import { parseCommandLine } from './args';
import { bench } from './bench';
import { pub } from './pub';
import { start } from './start';
import { stats } from './stats';
import { sub } from './sub';
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
      return start(command.configFile, command.flags);
    case 'pub':
      await pub(command);
      return 0;
    case 'sub':
      return sub(command);
    case 'stats':
      return stats(command);
    case 'bench':
      return bench(command);
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
