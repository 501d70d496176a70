/**
 * `msgmux start`: runs the daemon until SIGTERM or SIGINT, then drains and
 * exits 0. Around the daemon: the optional metrics listener, systemd
 * notifications, and SIGHUP, which rereads the config file with the same
 * command-line flags on top.
 */
import { resolveConfig, type ConfigInput } from '../config';
import { Daemon } from '../daemon/daemon';
import { createLogger, type Logger } from '../log';
import { parseListenAddress, formatListenAddress } from '../ops/listen-address';
import type { MetricsServer } from '../ops/metrics-server';
import { planReload } from '../ops/reload';
import { SystemdNotifier } from '../ops/sd-notify';
import { headline } from '../ops/snapshot';

async function startMetrics(address: string, source: string, daemon: () => Daemon | null, log: Logger): Promise<MetricsServer> {
  const parsed = parseListenAddress(address);
  if ('problem' in parsed) throw new Error(`metrics address ${address}: ${parsed.problem}`); // validated already: a bug
  // Loaded only when asked for: prom-client alone adds ~11 MB to a daemon's RSS.
  const [{ createMetrics }, { listenMetrics }] = await Promise.all([import('../ops/metrics.js'), import('../ops/metrics-server.js')]);
  const metrics = createMetrics(() => {
    const running = daemon();
    if (running === null) throw new Error('the daemon is starting');
    return running.stats();
  });
  const server = await listenMetrics(parsed, metrics, source);
  log.info({ metrics: formatListenAddress(server.address) }, 'metrics listening');
  return server;
}

export async function start(configFile: string | undefined, flags: ConfigInput): Promise<number> {
  const config = resolveConfig({ file: configFile, flags });
  const log = createLogger({ level: config.logLevel, name: 'msgmux' });
  // Until the handler below is ready, a SIGHUP must not kill the daemon (its default action).
  let onHangup = (): void => log.warn('SIGHUP before the daemon was up; ignored');
  process.on('SIGHUP', () => onHangup());

  let daemon: Daemon | null = null;
  const metricsSource = flags.metrics !== undefined ? '--metrics' : 'config.metrics';
  const metrics = config.metrics !== null ? await startMetrics(config.metrics, metricsSource, () => daemon, log) : null;
  try {
    daemon = await Daemon.start(config, log);
  } catch (err) {
    await metrics?.close();
    throw err;
  }
  const running = daemon;
  const notifier = SystemdNotifier.fromEnv(process.env, process.pid, log);
  notifier?.ready(headline(running.stats()));
  notifier?.keepAlive(() => headline(running.stats()));

  let reloads = Promise.resolve();
  onHangup = () => {
    reloads = reloads.then(() => reload(running, configFile, flags, log, notifier));
  };

  return new Promise<number>((resolve) => {
    const stop = (signal: string): void => {
      log.info({ signal }, 'signal received');
      notifier?.stopping();
      running.stop().then(
        (report) => resolve(report.abandoned > 0 ? 1 : 0),
        (err: Error) => {
          log.fatal({ err: err.message }, 'could not stop cleanly');
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    running.onFatal = () => resolve(1);
  }).finally(async () => {
    notifier?.close();
    await metrics?.close();
  });
}

/** Rereads the config; a config that fails validation changes nothing. Never throws. */
async function reload(daemon: Daemon, configFile: string | undefined, flags: ConfigInput, log: Logger, notifier: SystemdNotifier | null): Promise<void> {
  log.info({ config: configFile ?? null }, 'SIGHUP: reloading the configuration');
  notifier?.reloading();
  try {
    let next;
    try {
      next = resolveConfig({ file: configFile, flags });
    } catch (err) {
      const { message, code } = err as Error & { code?: string };
      log.error({ code, err: message }, 'reload refused; the running configuration is kept');
      return;
    }
    const plan = planReload(daemon.configuration, next);
    if (plan.needsRestart.length > 0) {
      log.warn({ fields: plan.needsRestart }, `reload: ${plan.needsRestart.join(', ')} changed but take effect only on a restart; running on with the old values`);
    }
    log.level = plan.config.logLevel;
    await daemon.reload(plan);
    log.info(
      { added: plan.add.map((s) => s.path), removed: plan.remove.map((s) => s.path), applied: plan.applied },
      'configuration reloaded',
    );
  } catch (err) {
    log.error({ err: (err as Error).message }, 'reload failed');
  } finally {
    notifier?.reloaded(headline(daemon.stats()));
  }
}
