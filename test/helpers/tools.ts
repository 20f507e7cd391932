import { spawnSync } from 'node:child_process';

/** True when `cmd` is on the PATH. */
export function hasTool(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** The message a test prints when it skips for a missing tool. */
export function missingTool(cmd: string, pkg: string): string {
  return `${cmd} not installed (Debian package ${pkg}; .ci/run installs it): test skipped`;
}
