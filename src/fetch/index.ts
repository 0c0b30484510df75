export { fetchPackages } from './fetch.js';
export { DebCache } from './deb-cache.js';
export { streamFetch } from './transport.js';
export type { FetchEvent, FetchPackagesOptions, FetchedPackage, StreamFetcher, StreamResponse } from './types.js';
