/**
 * The image tree: every stage after fetch works on one in-memory tree, and
 * every output writer walks it. Owners, modes, devices and xattrs are only
 * metadata here, so building needs no root, chroot or user namespace.
 *
 * Paths are relative to the image root, without a leading slash, with no `.`
 * or `..` components and no trailing slash: `usr/bin/nginx`. The root itself
 * is `''`.
 */

export interface NodeMeta {
  /** Permission bits including setuid/setgid/sticky (mode & 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  /** Modification time, whole seconds since the epoch. Writers clamp it to SOURCE_DATE_EPOCH. */
  mtime: number;
  /** Extended attributes (e.g. `security.capability`), binary values. */
  xattrs?: Map<string, Buffer>;
  /** The package this entry came from (`name` or `name:arch` for Multi-Arch: same), or undefined when jeos made it. */
  pkg?: string;
}

export interface FileNode extends NodeMeta {
  kind: 'file';
  data: Buffer;
}

export interface DirNode extends NodeMeta {
  kind: 'dir';
}

export interface SymlinkNode extends NodeMeta {
  kind: 'symlink';
  /** The link text, exactly as stored (relative or absolute). */
  target: string;
}

/** A second name for a regular file; `target` is the tree path of the file it shares content with. */
export interface HardlinkNode extends NodeMeta {
  kind: 'hardlink';
  target: string;
}

export interface DeviceNode extends NodeMeta {
  kind: 'char' | 'block';
  major: number;
  minor: number;
}

export interface FifoNode extends NodeMeta {
  kind: 'fifo';
}

export type TreeNode = FileNode | DirNode | SymlinkNode | HardlinkNode | DeviceNode | FifoNode;
export type NodeKind = TreeNode['kind'];
