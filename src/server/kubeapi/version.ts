import { readFileSync } from 'node:fs';
import { arch, platform } from 'node:process';

/** nodelet's own version, from package.json (src/ and dist/ sit at the same depth under the root). */
export const nodeletVersion: string = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/**
 * The Kubernetes minor release whose kubelet and API nodelet mirrors. kubectl compares it with its own
 * version (a skew of more than one minor makes `kubectl version` warn).
 */
export const KUBERNETES_MINOR = 32;

/** The `/version` body (k8s.io/apimachinery/pkg/version.Info), naming nodelet in the git version. */
export interface VersionInfo {
  major: string;
  minor: string;
  gitVersion: string;
  gitCommit: string;
  gitTreeState: string;
  buildDate: string;
  goVersion: string;
  compiler: string;
  platform: string;
}

/** The `/version` answer: Kubernetes v1.32 with `+nodelet.<version>` build metadata. */
export function versionInfo(): VersionInfo {
  const goArch = arch === 'x64' ? 'amd64' : arch === 'ia32' ? '386' : arch;
  return {
    major: '1',
    minor: String(KUBERNETES_MINOR),
    gitVersion: `v1.${KUBERNETES_MINOR}.0+nodelet.${nodeletVersion}`,
    gitCommit: '',
    gitTreeState: '',
    buildDate: '',
    // Not Go: kubectl only prints this field.
    goVersion: `node${process.versions.node}`,
    compiler: 'tsc',
    platform: `${platform}/${goArch}`,
  };
}
