import { readdirSync, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { loadPodManifest } from '../manifest/index.js';
import { MANIFEST_EXTENSIONS } from '../sources/file-source.js';

/**
 * `nodelet validate PATH…`: loads each manifest exactly as the file source would and reports every
 * error with file, line and column. Directories are read like --pod-manifest-path (no recursion).
 */
export function validateCommand(paths: string[], nodeName = hostname()): { output: string; ok: boolean } {
  const lines: string[] = [];
  let ok = true;
  const node = nodeName.trim().toLowerCase();
  for (const p of paths) {
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) {
      lines.push(`${p}: no such file or directory`);
      ok = false;
      continue;
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
      const abs = path.resolve(file);
      const r = loadPodManifest(readFileSync(file), { file, nodeName: node, source: 'file', origin: abs, seenAt: new Date() });
      if (r.ok) {
        lines.push(`${file}: ok (pod ${r.pod.metadata!.namespace}/${r.pod.metadata!.name})`);
      } else {
        ok = false;
        for (const e of r.errors) lines.push(e.located);
      }
    }
  }
  return { output: lines.join('\n') + '\n', ok };
}
