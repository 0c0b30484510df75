export { pushImage, SPDX_JSON } from './push.js';
export { authFiles, findCredentials, parseChallenge } from './auth.js';
export { parseRegistryRef } from './reference.js';
export type { PushEvent, PushOptions, PushResult, RegistryRef, Credentials } from './types.js';
