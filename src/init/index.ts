export { initImage, checkInitTarget, type InitOptions, type InitResult } from './init.js';
export { planInit, imageName } from './plan.js';
export { contentsOwners, type ContentsContext } from './contents.js';
export { renderConfig, hostFileSource, type RenderOptions } from './render.js';
export { KNOWN_PROGRAMS, knownProgram, portFromArgs, type KnownProgram } from './known.js';
export { parseService, splitCommandLine, formatCommandLine, type ServiceSection } from './unit.js';
export type { InitContext, InitPlan, InitSource, Choice, HostFile } from './types.js';
