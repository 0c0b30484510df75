// Temporary: src/build imports ensureTmp from here; it lives in src/configure/tmp-dir.ts (it needs
// the image tree, which src/util may not import). Remove once src/build imports it from there.
export { ensureTmp, TMP } from '../configure/tmp-dir.js';
