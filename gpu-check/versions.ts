// Where the GPU check's code came from: the project's version and commit, the versions of Dawn
// (npm `webgpu`) and TF.js, and when the pack was built. The pack builder collects them and bakes
// them into the bundle; run from the sources, they are read from the working tree.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface PackInfo {
  project: string;
  /** Commit the pack was built from ('+ changes' when the working tree differed). */
  commit: string;
  /** ISO time of the build, or 'not packed' when run from the sources. */
  builtAt: string;
  webgpu: string;
  tfjs: string;
  /** Running from a pack (bundled JavaScript) rather than from the TypeScript sources. */
  packed: boolean;
}

// Replaced by the pack builder (esbuild `define`); absent when run from the sources.
declare const __DEPASS_PACK_INFO__: PackInfo | undefined;

function version(root: string, pkg: string): string {
  try {
    return (JSON.parse(readFileSync(join(root, pkg, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Reads the versions from a checkout at `root` (its package.json, node_modules and git). */
export function collectPackInfo(root: string, builtAt = 'not packed'): PackInfo {
  let commit = 'unknown';
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    commit = git('rev-parse', '--short=12', 'HEAD') + (git('status', '--porcelain', '--untracked-files=no') ? ' + changes' : '');
  } catch {
    // not a git checkout
  }
  return {
    project: version(root, '.'),
    commit,
    builtAt,
    webgpu: version(root, 'node_modules/webgpu'),
    tfjs: version(root, 'node_modules/@tensorflow/tfjs-backend-webgpu'),
    packed: builtAt !== 'not packed',
  };
}

export function packInfo(root: string): PackInfo {
  return typeof __DEPASS_PACK_INFO__ !== 'undefined' ? __DEPASS_PACK_INFO__ : collectPackInfo(root);
}
