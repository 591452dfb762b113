import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { FakeClock } from '../util/clock.js';
import { CheckpointWriter, readCheckpoint } from './json-checkpoint.js';

const dir = mkdtempSync(path.join(tmpdir(), 'nodelet-checkpoint-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a burst of changes is one write, made after the delay, with the value as it is then', async () => {
  const clock = new FakeClock();
  const file = path.join(dir, 'sub', 'a.json');
  let value = { n: 1 };
  const w = new CheckpointWriter(file, 1, () => value, clock, 1_000, (err) => assert.fail(String(err)));
  w.touch();
  value = { n: 2 };
  w.touch();
  assert.equal(existsSync(file), false);
  clock.advance(1_000);
  await w.flush();
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { version: 1, data: { n: 2 } });
  assert.deepEqual(await readCheckpoint(file, 1), { value: { n: 2 } });
});

test('no file is a first start; a damaged or foreign file is reported and set aside', async () => {
  assert.deepEqual(await readCheckpoint(path.join(dir, 'none.json'), 1), {});
  const cut = path.join(dir, 'cut.json');
  writeFileSync(cut, '{"version":1,"data":{"x":');
  const r = await readCheckpoint(cut, 1);
  assert.equal(r.value, undefined);
  assert.match(r.problem!, /cut\.json: .*set aside as cut\.json\.corrupt/);
  assert.ok(existsSync(`${cut}.corrupt`));
  const other = path.join(dir, 'other.json');
  writeFileSync(other, JSON.stringify({ version: 2, data: {} }));
  assert.match((await readCheckpoint(other, 1)).problem!, /not a version 1 checkpoint/);
});
