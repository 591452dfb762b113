import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import type { NodeletError } from '../errors.js';
import { loadPodManifest } from '../manifest/index.js';
import { MANIFEST_EXTENSIONS } from '../sources/file-source.js';
import { auditManifestDir, auditManifestFile, processAuditPolicy, type AuditedDir, type ManifestAuditPolicy } from '../sources/manifest-audit.js';

/**
 * `nodelet validate PATH…`: loads each manifest exactly as the file source would and reports every
 * error with file, line and column, and every unknown field as a `warning:` line (with a did-you-mean
 * suggestion). Directories are read like --pod-manifest-path (no recursion). Run as root, it audits
 * them as nodelet run does (unless `audit.allowInsecure`): an insecure directory is one line and its
 * files are not read, an insecure file is one line. Two manifests of one pod name (namespace/name,
 * after the node suffix) are an error on the later one: nodelet runs only the first in file-name
 * order. `ok` is false on any error; warnings alone leave it true.
 */
export async function validateCommand(
  paths: string[],
  nodeName = hostname(),
  audit: ManifestAuditPolicy = processAuditPolicy(false),
): Promise<{ output: string; ok: boolean }> {
  const lines: string[] = [];
  let ok = true;
  const node = nodeName.trim().toLowerCase();
  /** namespace/name → the file that defines it first. */
  const definedBy = new Map<string, string>();
  for (const p of paths) {
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) {
      lines.push(`${p}: no such file or directory`);
      ok = false;
      continue;
    }
    let auditedDir: AuditedDir | undefined;
    if (st.isDirectory()) {
      const dirProblem = await auditManifestDir(p, audit);
      if (dirProblem) {
        lines.push(dirProblem.located);
        ok = false;
        continue;
      }
      auditedDir = { path: path.resolve(p), real: realpathSync(p) };
    }
    const files = st.isDirectory()
      ? readdirSync(p)
          .filter((n) => !n.startsWith('.'))
          .sort()
          .map((n) => path.join(p, n))
          .filter((f) => statSync(f, { throwIfNoEntry: false })?.isFile())
      : [p];
    for (const file of files) {
      if (st.isDirectory() && !MANIFEST_EXTENSIONS.includes(path.extname(file).toLowerCase())) {
        lines.push(`${file}: ignored (only ${MANIFEST_EXTENSIONS.join(' ')} files are loaded)`);
        continue;
      }
      const insecure = await auditManifestFile(file, audit, auditedDir);
      if (insecure) {
        lines.push(insecure.located);
        ok = false;
        continue;
      }
      const abs = path.resolve(file);
      const r = loadPodManifest(readFileSync(file), { file, nodeName: node, source: 'file', origin: abs, seenAt: new Date() });
      // Warnings first, in the compiler's `file:line:col: warning: …` form; alone they keep exit code 0.
      for (const w of r.warnings) lines.push(warningLine(w));
      if (r.ok) {
        const name = `${r.pod.metadata!.namespace}/${r.pod.metadata!.name}`;
        const first = definedBy.get(name);
        if (first === undefined) {
          definedBy.set(name, file);
          lines.push(`${file}: ok (pod ${name})`);
        } else {
          ok = false;
          lines.push(`${file}: duplicate pod name ${name}, already defined by ${first}: nodelet runs the first in file-name order and ignores this one`);
        }
      } else {
        ok = false;
        for (const e of r.errors) lines.push(e.located);
      }
    }
  }
  return { output: lines.join('\n') + '\n', ok };
}

// `web.yaml:7:5: warning: unknown field …`: the located form with `warning:` where gcc puts it.
function warningLine(w: NodeletError): string {
  const { file, line, column } = w.details;
  if (!file) return `warning: ${w.message}`;
  if (line === undefined) return `${file}: warning: ${w.message}`;
  return `${file}:${line}:${column ?? 1}: warning: ${w.message}`;
}
