/**
 * The directories ld.so searches for a library an object names (DT_NEEDED, or
 * dlopen() from it) before ld.so.cache and the default directories, in glibc's
 * order (elf/dl-load.c, _dl_map_object): the DT_RPATH of the object, then of the
 * object that loaded it, and so on up to the executable — all of it only when the
 * object has no DT_RUNPATH —, then (LD_LIBRARY_PATH, not known here) the object's
 * own DT_RUNPATH. An object's DT_RPATH is ignored when it has a DT_RUNPATH too,
 * as a loader as well. $ORIGIN in an RPATH is the directory of the object that
 * carries it.
 */
import { posix } from 'node:path';

/** What an object passes on to the objects it loads: the DT_RPATH directories of it and its loaders, nearest first. */
export type InheritedRpath = readonly string[];

export interface LibrarySearch {
  /** Directories to try, in order, before ld.so.cache (absolute, normalised). */
  dirs: string[];
  /** What the objects this one loads inherit. */
  inherited: InheritedRpath;
}

/**
 * Where an object's libraries are looked for first. `origin` is the directory of the
 * object (what $ORIGIN stands for); `inherited` is what its loader passed on (nothing
 * for an executable); `triplet` expands $LIB and $PLATFORM (entries with them are
 * skipped without one).
 */
export function librarySearch(
  object: { rpath?: string; runpath?: string },
  origin: string,
  inherited: InheritedRpath = [],
  triplet?: string,
): LibrarySearch {
  const own = object.runpath === undefined ? expandSearchPath(object.rpath, origin, triplet) : [];
  const passed = [...own, ...inherited];
  return { dirs: [...(object.runpath === undefined ? passed : []), ...expandSearchPath(object.runpath, origin, triplet)], inherited: passed };
}

/** A DT_RPATH/DT_RUNPATH string as absolute directories: $ORIGIN, $LIB, $PLATFORM expanded; relative or unknown entries left out. */
export function expandSearchPath(list: string | undefined, origin: string, triplet?: string): string[] {
  if (!list) return [];
  return list
    .split(':')
    .map((d) => {
      let out = d.replace(/\$(ORIGIN\b|\{ORIGIN\})/g, origin);
      if (triplet) out = out.replace(/\$(LIB\b|\{LIB\})/g, `lib/${triplet}`).replace(/\$(PLATFORM\b|\{PLATFORM\})/g, triplet.split('-')[0]!);
      return out;
    })
    .filter((d) => d.startsWith('/') && !d.includes('$'))
    .map((d) => posix.normalize(d).replace(/(.)\/+$/, '$1'));
}
