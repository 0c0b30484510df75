import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { DOC_PATH, generated, SCHEMA_PATH } from '../../scripts/gen-config-docs.js';

test('docs/jeos.schema.json and the key table in docs/config.md match the declarations', () => {
  const { schema, doc } = generated();
  assert.equal(readFileSync(SCHEMA_PATH, 'utf8'), schema, 'docs/jeos.schema.json is stale: run npm run gen');
  assert.equal(readFileSync(DOC_PATH, 'utf8'), doc, 'docs/config.md is stale: run npm run gen');
});
