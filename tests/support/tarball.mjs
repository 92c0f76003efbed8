// The package as users get it: `npm pack` (its prepack builds dist/) and the tarball installed
// into a throw-away project, with no registry access. One place for the suites that test
// packaging, toolchains and React from the tarball.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

/** Pack the package into `dir`; returns the tarball's path. */
export function packTarball(dir) {
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { encoding: 'utf8' }));
  return path.join(dir, packed[0].filename);
}

/**
 * Make `dir` a project (`package.json` named `name`, ESM) and install `tarball` into its own
 * node_modules, offline. `lockfile: false` writes no package-lock.json (see the Next.js rows
 * of tests/toolchains.test.mjs for why that matters).
 */
export function installTarball(dir, tarball, { name = path.basename(dir), lockfile = true } = {}) {
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
  const flags = ['--no-audit', '--no-fund', '--offline', ...(lockfile ? [] : ['--no-package-lock'])];
  execFileSync('npm', ['install', ...flags, tarball], { cwd: dir, stdio: 'pipe' });
}
