export { ociWriter, ociArchiveWriter, OCI_DIR, OCI_ARCHIVE } from './writer.js';
export { GZIP_LEVEL } from './layer.js';
export { ociPlatform, type OciPlatform } from './platform.js';
export { MEDIA_TYPES, REF_NAME_ANNOTATION, CONTAINERD_NAME_ANNOTATION, CREATED_ANNOTATION } from './documents.js';
