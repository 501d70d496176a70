/**
 * Cleanup that runs however a benchmark ends: normally (call the returned
 * release, or let `exit` run it), on an exception, or on SIGINT/SIGTERM.
 * Every action is synchronous (kill a child, unlink a queue, write a sysctl
 * back), so it also works from the `exit` event.
 *
 *   const release = onCleanup(() => MessageQueue.unlink(name));
 *   ...
 *   release();   // runs it now, once
 */
type Action = () => void;

const actions = new Set<Action>();
let installed = false;

function runAll(): void {
  for (const action of [...actions].reverse()) {
    actions.delete(action);
    try {
      action();
    } catch {
      // best effort: one failed action must not keep the others from running
    }
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.once('exit', runAll);
  let signalled = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    // `on`, not `once`: a second signal (a terminal's Ctrl-C plus a parent passing it on) must not kill us mid-cleanup.
    process.on(signal, () => {
      if (signalled) return;
      signalled = true;
      process.stderr.write(`\n${signal}: cleaning up\n`);
      runAll();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
}

/** Registers `action`; the returned function runs it at once (and only once). */
export function onCleanup(action: Action): () => void {
  install();
  let done = false;
  const once: Action = () => {
    if (done) return;
    done = true;
    action();
  };
  actions.add(once);
  return () => {
    actions.delete(once);
    once();
  };
}
