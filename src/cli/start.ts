/** `msgmux start`: runs the daemon until SIGTERM or SIGINT, then drains and exits 0. */
import { resolveConfig, type ConfigInput } from '../config';
import { Daemon } from '../daemon/daemon';
import { createLogger } from '../log';

export async function start(configFile: string | undefined, flags: ConfigInput): Promise<number> {
  const config = resolveConfig({ file: configFile, flags });
  const log = createLogger({ level: config.logLevel, name: 'msgmux' });
  const daemon = await Daemon.start(config, log);
  return new Promise<number>((resolve) => {
    const stop = (signal: string): void => {
      log.info({ signal }, 'signal received');
      daemon.stop().then(
        (report) => resolve(report.abandoned > 0 ? 1 : 0),
        (err: Error) => {
          log.fatal({ err: err.message }, 'could not stop cleanly');
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    daemon.onFatal = () => resolve(1);
  });
}
