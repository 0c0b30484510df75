/** Tree paths (no leading slash, `/`-separated), as every stage writes them. */

/** The directory part of a path: `usr/bin` for `usr/bin/env`, '' for a name with no slash. */
export function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}
