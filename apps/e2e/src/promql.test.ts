import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withBoolComparisons } from './promql.js';

test('comparisons get their bool form; matchers, strings and existing bools stay', () => {
  assert.equal(withBoolComparisons('up{job=~"tessera.*"} == 0'), 'up{job=~"tessera.*"} == bool 0');
  assert.equal(
    withBoolComparisons('a{status!="200", x=">"} > on (model) b'),
    'a{status!="200", x=">"} > bool on (model) b',
  );
  assert.equal(withBoolComparisons('x > 0 and y >= 2 or z != bool 1'), 'x > bool 0 and y >= bool 2 or z != bool 1');
  assert.equal(withBoolComparisons('rate(a[5m]) / b'), 'rate(a[5m]) / b');
});
