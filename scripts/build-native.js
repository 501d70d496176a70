#!/usr/bin/env node
// Install step: build the msgmux_native addon with node-gyp.
// Checks the toolchain first so a missing compiler is a one-line fix for the
// user rather than a page of node-gyp output.
'use strict';

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');

function onPath(name) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (!dir) continue;
    try {
      fs.accessSync(path.join(dir, name), fs.constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

function missingTools() {
  const missing = [];
  const cc = process.env.CC ? [process.env.CC.split(' ')[0]] : ['cc', 'gcc', 'clang'];
  if (!cc.some(onPath)) missing.push({ tool: 'a C compiler (cc/gcc)', pkg: 'build-essential' });
  if (!onPath('make')) missing.push({ tool: 'make', pkg: 'build-essential' });
  if (!['python3', 'python'].some(onPath) && !process.env.PYTHON && !process.env.npm_config_python) {
    missing.push({ tool: 'python3', pkg: 'python3' });
  }
  return missing;
}

// node-gyp is on PATH inside npm lifecycle scripts; elsewhere use npm's copy.
function nodeGypCommand() {
  if (onPath('node-gyp')) return { cmd: 'node-gyp', args: [] };
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
  ];
  try {
    candidates.push(require.resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not installed locally
  }
  for (const file of candidates) {
    if (file && fs.existsSync(file)) return { cmd: process.execPath, args: [file] };
  }
  return { cmd: 'npm', args: ['exec', '--yes', '--', 'node-gyp'] };
}

// When run by hand (not by npm) and node's own headers are installed beside
// the node binary, use them instead of downloading a header tarball.
function nodedirArgs() {
  if (process.env.npm_config_nodedir) return [];
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  return fs.existsSync(path.join(prefix, 'include/node/node_api.h')) ? [`--nodedir=${prefix}`] : [];
}

function main() {
  if (process.platform !== 'linux') {
    console.error('msgmux: the native binding (AF_UNIX datagrams, POSIX mq) is Linux-only; skipping the build.');
    return 0;
  }
  const missing = missingTools();
  if (missing.length > 0) {
    const pkgs = [...new Set(missing.map((m) => m.pkg))].join(' ');
    console.error(
      [
        'msgmux: cannot build the native binding; missing: ' + missing.map((m) => m.tool).join(', ') + '.',
        `Install them (Debian/Ubuntu: apt-get install ${pkgs}; Fedora: dnf install gcc make python3),`,
        'then run `npm install` again.',
      ].join('\n'),
    );
    return 1;
  }
  const gyp = nodeGypCommand();
  const result = spawnSync(gyp.cmd, [...gyp.args, 'rebuild', ...nodedirArgs()], { cwd: root, stdio: 'inherit' });
  if (result.error) {
    console.error(`msgmux: could not run node-gyp: ${result.error.message}`);
    return 1;
  }
  return result.status ?? 1;
}

process.exitCode = main();
