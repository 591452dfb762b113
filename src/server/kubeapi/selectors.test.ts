import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkFields, matchFields, matchLabels, parseFieldSelector, parseLabelSelector, SelectorError } from './selectors.js';

const labels = { app: 'web', tier: 'front', n: '5', empty: '' };

test('label selectors match as the API server matches them', () => {
  const cases: [string, boolean][] = [
    ['', true],
    ['app=web', true],
    ['app==web', true],
    ['app=db', false],
    ['app!=db', true],
    ['app!=web', false],
    ['missing!=x', true],
    ['app in (web,db)', true],
    ['app in (db)', false],
    ['app notin (db, cache)', true],
    ['app notin (web)', false],
    ['missing notin (x)', true],
    ['missing in (x)', false],
    ['tier', true],
    ['missing', false],
    ['!missing', true],
    ['!tier', false],
    ['app=web,tier=front', true],
    ['app=web,tier=back', false],
    ['  app = web ,  tier  ', true],
    ['n>4', true],
    ['n<4', false],
    ['app>4', false],
    ['empty=', true],
    ['empty in (,x)', true],
  ];
  for (const [sel, want] of cases) assert.equal(matchLabels(parseLabelSelector(sel), labels), want, sel);
});

test('bad label selectors are refused with the parser message', () => {
  for (const sel of ['a b', 'app in ()', 'app in (a', '=x', 'app=web,', '!app=x', 'n>x', 'bad key=x', 'a=has space', 'a=-x']) {
    assert.throws(() => parseLabelSelector(sel), SelectorError, sel);
  }
  assert.throws(() => parseLabelSelector('app in ()'), /values set can't be empty/);
});

test('field selectors parse =, == and != with backslash escapes', () => {
  assert.deepEqual(parseFieldSelector('metadata.name=web,status.phase!=Running,spec.nodeName==n1'), [
    { field: 'metadata.name', operator: '=', value: 'web' },
    { field: 'status.phase', operator: '!=', value: 'Running' },
    { field: 'spec.nodeName', operator: '=', value: 'n1' },
  ]);
  assert.deepEqual(parseFieldSelector('a=x\\,y'), [{ field: 'a', operator: '=', value: 'x,y' }]);
  assert.deepEqual(parseFieldSelector(''), []);
  assert.throws(() => parseFieldSelector('justaname'), /can't understand 'justaname'/);
});

test('field selectors match values, a missing field being the empty string', () => {
  const fields = { 'metadata.name': 'web', 'status.phase': 'Running' };
  assert.equal(matchFields(parseFieldSelector('metadata.name=web'), fields), true);
  assert.equal(matchFields(parseFieldSelector('metadata.name=db'), fields), false);
  assert.equal(matchFields(parseFieldSelector('status.phase!=Pending'), fields), true);
  assert.equal(matchFields(parseFieldSelector('spec.nodeName='), fields), true);
});

test('a field the resource cannot be selected by is refused', () => {
  assert.throws(() => checkFields(parseFieldSelector('spec.foo=x'), new Set(['metadata.name'])), /field label not supported: spec.foo/);
  checkFields(parseFieldSelector('metadata.name=x'), new Set(['metadata.name']));
});
