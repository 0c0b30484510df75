export * from './types.js';
export { ImageTree, defaultMeta, normalizePath } from './tree.js';
