/**
 * What unpacking a .deb yields besides the files it puts in the tree: the control
 * archive, which the configure stage needs (dpkg status, md5sums, conffiles, and
 * the maintainer scripts whose effects it reproduces or reports).
 */
export interface UnpackedPackage {
  /** Package name as in the control file. */
  name: string;
  version: string;
  architecture: string;
  /** `same` packages get `name:arch` file names in /var/lib/dpkg/info, as dpkg does. */
  multiArch: 'no' | 'same' | 'foreign' | 'allowed';
  /** The control file's paragraph, field names as written, in order. */
  control: Array<[string, string]>;
  /** Every member of control.tar except `control` itself: md5sums, conffiles, postinst, triggers, … */
  controlFiles: Map<string, Buffer>;
  /**
   * The data.tar entries as shipped (`/.`, `/usr`, `/usr/bin/x`), in archive order: what dpkg's
   * info/*.list holds. Like dpkg, the root is listed as `/.`, and a path another package took
   * over through Replaces is left out.
   */
  paths: string[];
  /** Conffiles listed by the package (absolute paths). */
  conffiles: string[];
}

/** A dpkg-divert diversion: packages other than `package` that ship the path have it written at `to`. */
export interface Diversion {
  /** Absolute path the diverted file is written to. */
  to: string;
  /** The package that owns the diversion and keeps the original path; undefined for a local diversion (diverts every package). */
  package?: string;
}

export interface UnpackStats {
  packages: number;
  /** data.tar entries seen, directories included. */
  entries: number;
  /** Regular files written. */
  files: number;
  /** Bytes of regular file content written. */
  bytes: number;
}
