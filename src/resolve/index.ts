export { resolve } from './resolve.js';
export { whyPaths } from './why.js';
export { parseSpec, type RequestSpec } from './request.js';
export { REQUEST } from './problem.js';
export type { ResolveRequest, ResolvedPackage, Resolution, ResolutionEdge, ResolveStats, DependencyGraph } from './types.js';
