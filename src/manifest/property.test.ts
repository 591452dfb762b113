// Property tests of the manifest package. Run counts come from NODELET_FUZZ_RUNS (200 by default,
// so the unit suite stays fast; `npm run test:fuzz` runs 20,000).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { NodeletError } from '../errors.js';
import type { Pod } from '../api/types.js';
import { decodeManifest, decodePods } from './decode.js';
import { loadPodManifest } from './load.js';
import { anyChar, loadOpts, mutate, shuffleKeys, validateText, validPod, yamlish } from './testing.js';
import { staticPodUID } from './uid.js';
import { validatePod } from './validate.js';

const numRuns = Number(process.env.NODELET_FUZZ_RUNS ?? 200);

// The generators (validPod, mutate, yamlish, …) are in testing.ts, shared with fuzz.test.ts.

function assertErrorsWellFormed(errors: NodeletError[], file: string): void {
  for (const e of errors) {
    assert.ok(e instanceof NodeletError);
    assert.equal(typeof e.code, 'string');
    assert.equal(typeof e.message, 'string');
    assert.equal(e.details.file, file);
    assert.ok(!e.message.startsWith('internal error'), e.message);
  }
}

// ---------------------------------------------------------------------------------------------
// Properties

describe('property: decoding never throws', () => {
  it('on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: anyChar, maxLength: 200 }), yamlish), (input) => {
        const m = decodeManifest(input, 'f.yaml');
        if (!m.ok) assertErrorsWellFormed(m.errors, 'f.yaml');
        const p = decodePods(input, 'f.yaml', { allowList: true });
        if (!p.ok) assertErrorsWellFormed(p.errors, 'f.yaml');
        const l = loadPodManifest(input, loadOpts({ file: 'f.yaml' }));
        if (!l.ok) assertErrorsWellFormed(l.errors, 'f.yaml');
      }),
      { numRuns },
    );
  });

  it('on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), yamlish.map((s) => new TextEncoder().encode(s))), (bytes) => {
        const m = decodeManifest(bytes, 'f.yaml');
        if (!m.ok) assertErrorsWellFormed(m.errors, 'f.yaml');
        const l = loadPodManifest(bytes, loadOpts({ file: 'f.yaml' }));
        if (!l.ok) assertErrorsWellFormed(l.errors, 'f.yaml');
      }),
      { numRuns },
    );
  });
});

describe('property: a valid pod has one UID however it is written', () => {
  // Block scalar styles are left out: yaml 2.9's writer gets them wrong for strings with leading
  // or only whitespace (a wrong indentation indicator with indent 4; whitespace-only lines that
  // read back empty). Those are writer bugs outside nodelet; multi-line strings still come out as
  // block scalars under PLAIN. Likewise very narrow line widths (20) fold double-quoted strings
  // into garbage ("…abundefined…").
  const yamlStyles = fc.record({
    indent: fc.constantFrom(2, 4),
    collectionStyle: fc.constantFrom('any', 'block', 'flow'),
    defaultStringType: fc.constantFrom('PLAIN', 'QUOTE_DOUBLE', 'QUOTE_SINGLE'),
    lineWidth: fc.constantFrom(0, 80),
  }) as fc.Arbitrary<Parameters<typeof stringify>[2] & object>;

  it('round-trips through YAML and JSON to the same UID', () => {
    fc.assert(
      fc.property(validPod, fc.integer(), yamlStyles, fc.nat(4), (pod, seed, style, jsonIndent) => {
        const opts = loadOpts({ origin: '/m/p.yaml' });
        assert.deepEqual(validatePod(pod, { file: 'p.yaml', nodeName: opts.nodeName }).map((e) => e.message), []);
        const uid = staticPodUID(pod, opts.nodeName, 'file', opts.origin);

        // YAML 1.1 is what we read: the writer must quote `yes`, `0644` and friends accordingly.
        const asYAML = stringify(shuffleKeys(pod, seed), { version: '1.1', ...style });
        const asJSON = JSON.stringify(shuffleKeys(pod, seed + 1), null, jsonIndent);
        for (const source of [asYAML, asJSON]) {
          const res = loadPodManifest(source, opts);
          assert.ok(res.ok, `${source}\n${JSON.stringify(!res.ok && res.errors.map((e) => e.located))}`);
          assert.equal(res.pod.metadata?.uid, uid, source);
        }
      }),
      { numRuns },
    );
  });
});

describe('property: validation never throws', () => {
  it('on arbitrary JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const errors = validatePod(value as Pod, { file: 'j.json', nodeName: 'n' });
        assert.ok(Array.isArray(errors));
        assertErrorsWellFormed(errors, 'j.json');
      }),
      { numRuns },
    );
  });

  it('on valid pods with one part replaced by arbitrary JSON, or removed', () => {
    fc.assert(
      fc.property(validPod, fc.nat(), fc.option(fc.jsonValue(), { nil: undefined }), (pod, pick, replacement) => {
        const broken = mutate(pod, pick, replacement);
        assertErrorsWellFormed(validatePod(broken as Pod, { file: 'm.json', nodeName: 'n' }), 'm.json');
      }),
      { numRuns },
    );
  });

  it('on broken pods decoded from YAML, with every error located', () => {
    fc.assert(
      fc.property(validPod, fc.nat(), fc.jsonValue(), (pod, pick, replacement) => {
        const source = stringify(mutate(pod, pick, replacement), { version: '1.1' });
        const errors = validateText(source, 'm.yaml', 'n');
        assertErrorsWellFormed(errors, 'm.yaml');
        for (const e of errors) {
          if (e.code !== 'FailedValidation') continue;
          // Everything in a decoded object can be located (at worst at the object's first line).
          assert.equal(typeof e.details.line, 'number', e.located);
          assert.equal(typeof e.details.column, 'number', e.located);
        }
      }),
      { numRuns },
    );
  });
});
