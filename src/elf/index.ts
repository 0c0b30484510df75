export { readElf, isElf, type ElfInfo, ET_EXEC, ET_DYN, EM_386, EM_ARM, EM_X86_64, EM_AARCH64, EM_RISCV } from './elf.js';
export { readImports, readDlopenNotes, type DlopenFeature } from './sections.js';
export { librarySearch, expandSearchPath, type InheritedRpath, type LibrarySearch } from './search-path.js';
