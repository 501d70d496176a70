/**
 * The ingest queue's permissions: who besides its owner may publish to it
 * or read from it. The daemon creates it with `queueMode` (0600 unless
 * configured); a queue that already exists keeps its own mode, so one left
 * wider than configured is reported at start rather than silently used.
 *
 *   queueModeProblem(name, actual: { mode, uid }, configuredMode, daemonUid): string | null
 */

const octal = (mode: number): string => '0' + (mode & 0o777).toString(8).padStart(3, '0');

/** "its group may read and publish; every user may read", for the bits set in `bits`. */
function whoMay(bits: number): string {
  const rights = (read: number, write: number) =>
    [bits & read ? 'read' : '', bits & write ? 'publish' : ''].filter(Boolean).join(' and ');
  return [
    bits & 0o060 ? `its group may ${rights(0o040, 0o020)}` : '',
    bits & 0o006 ? `every user may ${rights(0o004, 0o002)}` : '',
  ].filter(Boolean).join('; ');
}

/** Why the existing queue is more open than configured (or owned by someone else), or null when it is not. */
export function queueModeProblem(name: string, actual: { mode: number; uid: number }, configuredMode: number, daemonUid: number): string | null {
  const extra = actual.mode & 0o777 & ~configuredMode;
  const problems: string[] = [];
  if (extra !== 0) {
    problems.push(
      `has mode ${octal(actual.mode)}, wider than queueMode ${octal(configuredMode)}` +
        (extra & 0o066 ? ` (${whoMay(extra & 0o066)})` : ''),
    );
  }
  if (actual.uid !== daemonUid) problems.push(`belongs to uid ${actual.uid}, not the daemon's uid ${daemonUid}`);
  if (problems.length === 0) return null;
  return `queue ${name} ${problems.join(' and ')}; it was created before this start. To apply queueMode, remove it while no daemon runs (messages in it are lost): ` +
    `node -e "require('msgmux/native').MessageQueue.unlink('${name}')", or rm /dev/mqueue${name} where the mqueue filesystem is mounted`;
}
