#!/usr/bin/env node
// The CLI as one file (dist/jeos.mjs): loading ~150 compiled modules one by one costs
// about 80 ms at every start; one bundle does not. The library stays in dist/ as modules.
// MiniSat (logic-solver) and OpenPGP.js stay outside: they load on first use (resolving,
// checking a signature), which a build from a current lock never does.
import { chmodSync } from 'node:fs';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
await build({
  entryPoints: [`${root}dist/cli/main.js`],
  outfile: `${root}dist/jeos.mjs`,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // The CycloneDX library's optional plug-ins (XML, schema validation) are looked up when used,
  // which the SBOM's JSON writer never does: left out of the bundle, they need not be installed.
  external: ['logic-solver', 'openpgp', 'xmlbuilder2', 'libxmljs2', 'ajv', 'ajv-formats', 'ajv-formats-draft2019'],
  // Bundled CommonJS dependencies call require(); give the ES module one.
  banner: { js: "import { createRequire as __jeosRequire } from 'node:module'; const require = __jeosRequire(import.meta.url);" },
  logLevel: 'warning',
});
chmodSync(`${root}dist/jeos.mjs`, 0o755);
