/**
 * Control requests from another uid: the Python peer (test/fixtures/peer.py)
 * run through `setpriv --reuid --regid --clear-groups`. Python from /usr/bin,
 * and the script copied to a directory that uid can read, because the
 * checkout and the `python3` on PATH may sit in root's home.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT } from './daemon';

export const NOBODY = 65534;
export const PYTHON = '/usr/bin/python3';
export const canSwitchUser = process.getuid?.() === 0;

export interface PeerSpec {
  bind: string | null;
  control: string;
  requests: (string | Buffer | object)[];
  replyTimeoutMs?: number;
  receive?: number;
  idleMs?: number;
}

export interface PeerResult {
  replies: ({ ok: boolean; error?: { code: string; message: string } } & Record<string, unknown> | null)[];
  received: number;
  uid: number;
}

/** A directory every uid may enter and read, holding the peer script; removed by `dispose`. */
export function peerScript(): { file: string; dir: string; dispose(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'msgmux-peer-'));
  chmodSync(dir, 0o1777); // also a place where that uid may bind a filesystem socket
  const file = path.join(dir, 'peer.py');
  copyFileSync(path.join(ROOT, 'test', 'fixtures', 'peer.py'), file);
  chmodSync(file, 0o644);
  return { file, dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

const encode = (request: string | Buffer | object): string =>
  (Buffer.isBuffer(request) ? request : Buffer.from(typeof request === 'string' ? request : JSON.stringify(request))).toString('base64');

/** The setpriv arguments that make a process `uid` (gid `uid` too) with exactly `groups` as its supplementary groups. */
export const becomeUser = (uid: number, groups: number[] = []): string[] => [
  `--reuid=${uid}`, `--regid=${uid}`, groups.length > 0 ? `--groups=${groups.join(',')}` : '--clear-groups',
];

/** Runs the peer as `uid` (its own gid too, and `groups`, none by default, as supplementary groups) and returns what it reported. */
export async function asUser(uid: number, script: string, spec: PeerSpec, groups: number[] = []): Promise<PeerResult> {
  const wire = { ...spec, requests: spec.requests.map(encode) };
  const child = spawn('setpriv', [...becomeUser(uid, groups), PYTHON, script, JSON.stringify(wire)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`peer as uid ${uid} exited ${code}: ${stderr}`);
  return JSON.parse(stdout.trim().split('\n').pop()!) as PeerResult;
}
