// Test helpers of the manifest package (excluded from the build): fixtures, dedent, and a
// decode-and-validate shortcut that keeps the source locator, as loadPodManifest does.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { NodeletError } from '../errors.js';
import { decodePods } from './decode.js';
import type { LoadOptions } from './load.js';
import { validatePod } from './validate.js';

/** The directory of sample manifests. */
export const FIXTURES_DIR = fileURLToPath(new URL('../../test/fixtures/manifests/', import.meta.url));

/** The bytes of a sample manifest in test/fixtures/manifests. */
export function fixture(name: string): Buffer {
  return readFileSync(FIXTURES_DIR + name);
}

/** Strips the common indentation and the first newline of a template literal, so YAML can be inlined. */
export function yaml(strings: TemplateStringsArray, ...values: unknown[]): string {
  const raw = strings.reduce((acc, s, i) => acc + s + (i < values.length ? String(values[i]) : ''), '');
  const lines = raw.replace(/^\n/, '').split('\n');
  const indents = lines.filter((l) => l.trim() !== '').map((l) => /^ */.exec(l)?.[0].length ?? 0);
  const cut = Math.min(...indents);
  return lines.map((l) => l.slice(cut)).join('\n').replace(/[ ]+$/, '');
}

/** Load options for tests: node `node-1`, file source, a fixed first-seen time. */
export function loadOpts(overrides: Partial<LoadOptions> = {}): LoadOptions {
  return {
    file: 'web.yaml',
    nodeName: 'node-1',
    source: 'file',
    origin: '/etc/kubernetes/manifests/web.yaml',
    seenAt: new Date('2026-11-25T15:04:05.123Z'),
    ...overrides,
  };
}

/** Decodes one pod from YAML text and validates it with locations; decode errors are returned too. */
export function validateText(text: string, file = 'web.yaml', nodeName = 'node-1'): NodeletError[] {
  const d = decodePods(text, file, { allowList: false });
  if (!d.ok) return d.errors;
  const first = d.pods[0];
  if (!first) throw new Error('no pod decoded');
  return validatePod(first.pod, { file, locate: first.locate, nodeName });
}

/** A minimal valid manifest with `spec` lines appended under `spec:` (indented by 2). */
export function podWithSpec(specLines: string): string {
  const indented = specLines
    .split('\n')
    .map((l) => (l.trim() === '' ? l : `  ${l}`))
    .join('\n');
  return `apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n${indented}\n`;
}
