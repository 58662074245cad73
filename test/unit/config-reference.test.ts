// docs/configuration.md is generated from the settings table (SETTINGS in src/config.ts) by
// scripts/config-reference.ts: this fails when the file is stale, and checks the table against the loader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { configurationReference, REFERENCE_PATH } from '../../scripts/config-reference.ts';
import { loadConfig, SETTINGS } from '../../src/config.ts';

test('docs/configuration.md is what scripts/config-reference.ts writes (run it after changing a setting)', () => {
  assert.equal(readFileSync(REFERENCE_PATH, 'utf8'), configurationReference(), 'stale: run `node scripts/config-reference.ts`');
});

test("every setting is documented, named BERTH_<KEY_IN_UPPER_SNAKE>, and its documented default is the loader's", () => {
  const defaults = loadConfig({});
  for (const [key, s] of Object.entries(SETTINGS)) {
    assert.equal(s.env, `BERTH_${key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}`, `${key}: its environment variable`);
    assert.ok(s.doc.length > 10, `${key} has a description`);
    assert.equal((defaults as unknown as Record<string, unknown>)[key], s.default, `${key}: the default the reference shows`);
    assert.ok(s.default !== undefined || s.defaultText !== undefined || s.kind === 'string', `${key}: a default, in value or in words`);
  }
  // Each boolean's and number's variable sets its setting.
  for (const [key, s] of Object.entries(SETTINGS)) {
    if (s.kind === 'string') continue;
    const [text, value] = s.kind === 'boolean' ? ['true', true] : ['7', 7];
    assert.equal((loadConfig({ [s.env]: text }) as unknown as Record<string, unknown>)[key], value, s.env);
  }
});
