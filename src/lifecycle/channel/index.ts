/**
 * Channels: directories of signed versions any static web server can serve (docs/channels.md).
 * Keys, publishing, promoting, re-signing, and the image side's sysupdate files.
 */
export { newKeyPair, readSigningKey, readPublicKey, imageKeyring, signDetached, verifyDetached, fingerprintOf, PUBLIC_KEY_FILE, SECRET_KEY_FILE, type KeyPairInfo } from './keys.js';
export { publishBuild, promoteVersion, resignChannel, type PublishOptions, type PromoteOptions, type PublishResult } from './publish.js';
export { readChannel, readPayload, type ChannelState, type ChannelRelease } from './channel.js';
export { versionFiles, payloadNames, SUMS, SUMS_SIG, parseSums, formatSums } from './layout.js';
export { checkFresh, parseRelease, releaseText, DEFAULT_VALID_DAYS, type Release } from './release.js';
export { sysupdateFiles, channelEntryText, SYSUPDATE_ESP_DIR, IMAGE_KEYRING, type FollowSettings, type ImageFile } from './sysupdate.js';
