export { resolve } from './resolve.js';
export { whyPaths } from './why.js';
export { parseSpec, type RequestSpec } from './request.js';
export type { ResolveRequest, ResolvedPackage, Resolution, ResolutionEdge, ResolveStats } from './types.js';
