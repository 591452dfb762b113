// nodelet's own OOM score (--oom-score-adj), on this process. Scores go up here, which needs no privilege, and once down to the floor, which the kernel may
// refuse (lowering needs CAP_SYS_RESOURCE): both outcomes are checked for what follows from them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ownCapabilities } from '../runtime/process/isolation/capabilities.js';
import { createLogger } from './log.js';
import { applyOwnOomScoreAdj, readOomScoreAdj } from './oom-score-adj.js';

const logged: Record<string, unknown>[] = [];
const logger = createLogger({
  format: 'json',
  verbosity: 0,
  destination: { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) } as unknown as NodeJS.WritableStream,
});
const start = readOomScoreAdj();

test('nodelet sets its own score and says what it had; one it may not set is one warning, and it goes on', { skip: (start === undefined || start >= 999) && 'no room to raise this process’s score' }, () => {
  const before = logged.length;
  assert.equal(applyOwnOomScoreAdj(start! + 1, logger), start);
  assert.equal(readOomScoreAdj(), start! + 1);
  assert.deepEqual(logged.slice(before), []);
  // Down to the floor: with CAP_SYS_RESOURCE it takes; without, the kernel refuses it unless a
  // privileged process once gave us that floor (it keeps the lowest score one set, not shown in /proc).
  // Either way nothing throws, and there is a warning exactly when the score was not set.
  assert.equal(applyOwnOomScoreAdj(-1000, logger), start! + 1);
  const now = readOomScoreAdj();
  if (ownCapabilities().has('SYS_RESOURCE')) assert.equal(now, -1000);
  if (now === -1000) {
    assert.deepEqual(logged.slice(before), []);
  } else {
    assert.equal(now, start! + 1);
    assert.deepEqual(
      logged.slice(before).map((l) => [l.level, l.msg, l.oomScoreAdj, l.kept, l.reason]),
      [[40, "Cannot set nodelet's own OOM score: it runs with the one it has", -1000, start! + 1, 'lowering it needs CAP_SYS_RESOURCE (root)']],
    );
  }
});
