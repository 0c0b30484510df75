/**
 * The rules between folders, checked by `npm run lint` (dependency-cruiser).
 * docs/architecture.md ("Rules between folders") says the same in prose.
 *
 * The pipeline runs config → archive → resolve → lock → fetch → unpack → configure → trim
 * → vm → outputs → boot; a stage may import the stages before it, never one after it.
 * src/util, src/errors.ts, src/tree and src/elf are shared lower layers every stage may use.
 * build, check, init and the CLI sit on top.
 */

/** Non-test source: the layer rules are about what ships in dist/. */
const TEST = '[.]test[.]ts$';

/**
 * What each folder of src/ may import besides itself, src/errors.ts, src/util and (but for the
 * two lowest rows) src/tree and src/elf. One row a folder, lowest first. A new import across
 * folders either fits a row or is a design decision: change the row in the same commit, say why.
 */
const LOWER = ['errors.ts', 'util', 'tree', 'elf'];
const MAY_IMPORT = {
  util: ['errors.ts'], //                    helpers for every stage: nothing of jeos's own
  tree: ['errors.ts', 'util'], //            the in-memory image tree and queries on it
  elf: ['errors.ts', 'util'], //             ELF reading, for configure, trim, vm, boot, init
  config: [...LOWER], //                     jeos.yaml: the input, needs no stage
  archive: [...LOWER, 'config'], //          signed metadata of the Debian archive
  settings: [...LOWER, 'config', 'archive'], // flags > environment > jeos.yaml > apt, resolved once
  resolve: [...LOWER, 'archive'], //         the solver works on archive records
  lock: [...LOWER, 'config', 'archive', 'resolve'],
  fetch: [...LOWER, 'archive', 'lock'], //   downloads what the lock names
  unpack: [...LOWER, 'archive'], //          .deb → tree (relations for Replaces/Conflicts)
  configure: [...LOWER, 'archive', 'unpack'], // the maintainer scripts' effects, on the unpacked tree
  trim: [...LOWER, 'unpack', 'configure'], // file-level trim; rebuilds ld.so.cache and the dpkg database
  vm: [...LOWER, 'config', 'unpack', 'configure', 'trim'], // the system inside a VM image (kernel, modules, init)
  outputs: [...LOWER], //                    writers see the tree and the image spec only
  boot: [...LOWER], //                       runs and tests what the outputs wrote (QEMU, podman), from the files alone
  record: [...LOWER, 'configure', 'trim', 'vm', 'outputs'], // the image record (build.json, manifest)
  report: [...LOWER, 'record', 'trim'], //   documents made from the record (SBOM, HTML report); trim: how a kept path's chain reads (jeos why's words)
  // lifecycle/channel: a disk that follows a channel (update:) carries its transfer files and key, which the channel's side defines (sysupdateFiles, imageKeyring)
  build: [...LOWER, 'config', 'settings', 'archive', 'resolve', 'lock', 'fetch', 'unpack', 'configure', 'trim', 'vm', 'outputs', 'record', 'report', 'version.ts', 'lifecycle/channel'],
  check: [...LOWER, 'config', 'trim', 'build'], // build --check's diagnosis: rebuilds; how to test is passed in
  init: [...LOWER, 'config', 'archive', 'lock', 'fetch', 'unpack', 'configure'], // jeos init: a jeos.yaml from a package or a program
  'lifecycle/audit': [...LOWER, 'record', 'boot', 'lifecycle/disk'], // jeos audit: the record against a target (boot: running podman and jeos run's VMs; lifecycle/disk: a stopped disk's ESP); no stage's code
  'lifecycle/push': ['errors.ts', 'util'], // jeos push: reads the OCI layout's files and talks to a registry; no stage's code
  'lifecycle/disk': [...LOWER, 'archive', 'outputs', 'record'], // jeos disk add/status: the ESP's FAT editor and entry names (outputs), Debian version order (archive), build.json (record)
  'lifecycle/channel': [...LOWER, 'archive', 'lock', 'outputs', 'record', 'lifecycle/disk'], // publish/promote: build.json (record), disk.img read through lifecycle/disk, entry names (outputs), jeos.lock and its package changes (lock), version order (archive)
  'lifecycle/diff': [...LOWER, 'archive', 'settings', 'lock', 'fetch', 'unpack', 'record', 'lifecycle/channel'], // jeos diff/outdated: locks, manifests, the archive now, the .debs' changelogs; CHANNEL@VERSION through lifecycle/channel
};

const esc = (name) => name.replace(/[.]/g, '[.]');
const folder = (name) => (name.endsWith('.ts') ? `^src/${esc(name)}$` : `^src/${esc(name)}/`);

const layerRules = Object.entries(MAY_IMPORT).map(([from, allowed]) => ({
  name: `layer-${from}`,
  comment: `src/${from} may import only ${allowed.join(', ')} (see MAY_IMPORT in .dependency-cruiser.cjs)`,
  severity: 'error',
  from: { path: folder(from), pathNot: TEST },
  to: { path: '^src/', pathNot: [folder(from), ...allowed.map(folder)] },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'modules that import each other (types too) cannot be read, tested or moved one at a time',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...layerRules,
    {
      name: 'not-to-cli',
      comment: 'only the CLI prints and exits; the library (and its tests) never depend on it',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/cli/'] },
      to: { path: '^src/cli/' },
    },
    {
      name: 'index-only-on-top',
      comment: 'src/index.ts is the library surface for users; nothing inside jeos imports it',
      severity: 'error',
      from: { path: '^(src|test|bench|scripts)/' },
      to: { path: '^src/index[.]ts$' },
    },
    {
      name: 'not-to-tests',
      comment: 'code that ships in dist/ never imports test files, test/ or test/support/ (they are not built)',
      severity: 'error',
      from: { path: '^src/', pathNot: TEST },
      to: { path: ['[.]test[.]ts$', '^test/'] },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'an import that names no file is a typo or a file moved without its importers',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count: they tie the folders together as much as the others do.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // Resolve packages' subpath exports (`@cyclonedx/cyclonedx-library/Models`) as Node does.
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
