import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodeConfigFile } from './config-file.js';
import { FIELD_KEYS, FIELDS, FILE_FIELDS } from './fields.js';
import { flagSpelling, RUN_FLAGS } from './flags.js';

// docs/configuration.md is the user's reference of every setting: these tests fail when a field or a
// flag is added, renamed or re-defaulted here without the reference following.

const DOC_PATH = fileURLToPath(new URL('../../docs/configuration.md', import.meta.url));
const doc = readFileSync(DOC_PATH, 'utf8');

/** The settings table's row for `name`: the line whose first cell is `` `name` ``. */
function settingRow(name: string): string | undefined {
  return doc.split('\n').find((line) => line.startsWith(`| \`${name}\` |`));
}

/** The default as `nodelet config` prints it (`20s`, `10Mi`, `"/var/log/pods"`, `""`). */
function shownDefault(key: (typeof FIELD_KEYS)[number]): string {
  const spec = FIELDS[key];
  return (spec.kind.format as (v: unknown) => string)(spec.default);
}

/** The YAML block under the "Complete example" heading. */
function completeExample(): string {
  const section = doc.split(/^## Complete example$/m)[1];
  assert.ok(section, 'docs/configuration.md has a "## Complete example" section');
  const block = /```yaml\n([\s\S]*?)```/.exec(section);
  assert.ok(block, 'the "Complete example" section holds a ```yaml block');
  return block[1]!;
}

describe('docs/configuration.md', () => {
  it('has a settings row for every field nodelet config shows', () => {
    const missing = FIELD_KEYS.map((key) => FIELDS[key].name).filter((name) => settingRow(name) === undefined);
    assert.deepEqual(missing, [], `settings without a row in ${DOC_PATH}`);
  });

  it("gives each setting its config file field and its default as nodelet config prints it", () => {
    for (const key of FIELD_KEYS) {
      const spec = FIELDS[key];
      const row = settingRow(spec.name);
      assert.ok(row, `row for ${spec.name}`);
      const cells = row.split(' | ');
      // Cells: setting, file field, flag, type, default, kubelet equivalent, notes.
      assert.equal(cells[1], spec.file === undefined ? 'flag only' : `\`${spec.file}\``, `config file field of ${spec.name}`);
      const def = shownDefault(key);
      // nodeName's default is computed (the machine's hostname); everything else is a constant.
      if (def !== '') assert.ok(cells[4]!.includes(`\`${def}\``), `default of ${spec.name}: expected \`${def}\` in "${cells[4]}"`);
    }
  });

  it('names every flag of nodelet run, in the row of the setting it sets', () => {
    for (const flag of RUN_FLAGS) {
      const spelling = `\`${flagSpelling(flag.name)}\``;
      if (flag.field === undefined) {
        assert.ok(doc.includes(spelling), `${spelling} is documented`);
        continue;
      }
      const row = settingRow(FIELDS[flag.field].name);
      assert.ok(row?.split(' | ')[2]?.includes(spelling), `${spelling} is in the row of ${FIELDS[flag.field].name}`);
    }
  });

  it('has a complete example that nodelet reads without a warning and that sets every config file field', () => {
    const decoded = decodeConfigFile(completeExample(), '/etc/example/config.yaml');
    assert.deepEqual(decoded.warnings, []);
    const set = new Set(decoded.settings.map((s) => s.field));
    const unset = [...FILE_FIELDS.keys()].filter((field) => !set.has(field));
    assert.deepEqual(unset, [], 'config file fields missing from the complete example');
  });
});
