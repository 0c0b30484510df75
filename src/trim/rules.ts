/**
 * What static analysis cannot see: files a program loads by name at run time
 * (dlopen()ed plugins, character-set converters, configuration it reads from a
 * fixed path). Each rule fires when a kept file imports one of its symbols or
 * when a path it names is reached, and then keeps its globs; whatever it keeps
 * is analysed like any other kept file (a kept plugin brings its libraries).
 * docs/trim.md lists these rules; add one here rather than a special case in code.
 */
export interface TrimRule {
  name: string;
  /** Why the files are needed, shown in build.json and `jeos why`. */
  reason: string;
  when: {
    /** A kept ELF file takes one of these symbols from its libraries. */
    imports?: readonly string[];
    /** A kept path matches one of these globs. */
    reaches?: readonly string[];
    /**
     * The workload's own program (its command or health check, after links) matches one of these globs.
     * Its keep globs may name it: `$PROGRAM` (its file name) and `$PACKAGE` (its package), and the rule
     * fires once per such program.
     */
    runs?: readonly string[];
    /** Importers that do not count: libraries that import the symbol for a feature most programs never use. */
    notFrom?: readonly string[];
  };
  /**
   * Globs to keep. `$SERVICE` stands for each NSS service /etc/nsswitch.conf names (glibc's defaults without one);
   * `$LOCALE` for each locale /etc/locale.conf names (systemd's C.UTF-8 without one), in each spelling glibc tries.
   */
  keep: readonly string[];
}

const LIB = 'usr/lib/*-linux-*';

/** Name-service lookups (users, groups, hosts, services) go through NSS modules chosen by /etc/nsswitch.conf. */
const NSS_SYMBOLS = [
  'getpwnam', 'getpwnam_r', 'getpwuid', 'getpwuid_r', 'getpwent', 'getgrnam', 'getgrnam_r', 'getgrgid', 'getgrgid_r',
  'getgrent', 'initgroups', 'getgrouplist', 'getspnam', 'getspnam_r', 'getaddrinfo', 'getnameinfo', 'gethostbyname',
  'gethostbyname_r', 'gethostbyname2', 'gethostbyname2_r', 'gethostbyaddr', 'gethostbyaddr_r', 'getservbyname',
  'getservbyname_r', 'getservbyport', 'getprotobyname', 'getprotobyname_r',
];

export const TRIM_RULES: readonly TrimRule[] = [
  {
    name: 'nss',
    reason: 'user, group and host lookups load NSS modules named in /etc/nsswitch.conf with dlopen()',
    when: { imports: NSS_SYMBOLS },
    keep: [`${LIB}/libnss_$SERVICE.so.2`, 'etc/nsswitch.conf', 'etc/host.conf', 'etc/hosts', 'etc/resolv.conf', 'etc/gai.conf', 'etc/services', 'etc/protocols'],
  },
  {
    name: 'gconv',
    reason: 'iconv_open() loads character-set converters from the gconv directory with dlopen()',
    // libstdc++ imports iconv for std::codecvt facets of named locales, which most C++ programs never use:
    // a C++ program that converts character sets itself imports iconv_open and still fires the rule.
    // libxml2 reads and writes UTF-8, UTF-16, ISO-8859-1 and ASCII with its own converters and calls iconv
    // only for a document declared in another encoding (bind9 and nsd kept 8 MB of converters for it);
    // coreutils' printf calls it only to print a \u escape in a locale that is not UTF-8 (images run C.UTF-8);
    // GnuPG's programs only when the locale's character set is none of UTF-8, ASCII and Latin-1 (gnupg's
    // common/utf8conv.c), and they fall back to Latin-1 when iconv_open fails; fsck.fat to show a name in the
    // FAT's code page, 850 by default, for which it has a table of its own when iconv_open fails; libidn2,
    // libunistring and libpsl (curl's) between the locale's character set and UTF-8. A disk that follows a
    // channel kept 8.2 MB of converters (3.7 MB in its LZ4 initrd of 27 MB) for gpg, keyboxd, fsck.fat and curl.
    // Glibc converts between UTF-8, UTF-16/32, UCS-2/4 and ASCII without a gconv module either way.
    when: {
      imports: ['iconv_open', 'iconv'],
      notFrom: [`${LIB}/libstdc++.so.*`, `${LIB}/libxml2.so.*`, 'usr/bin/printf', 'usr/bin/gpg*', 'usr/bin/dirmngr', 'usr/lib/gnupg/*', 'usr/sbin/fsck.fat', `${LIB}/libidn2.so.*`, `${LIB}/libunistring.so.*`, `${LIB}/libpsl.so.*`],
    },
    keep: [`${LIB}/gconv/**`],
  },
  {
    name: 'c-utf8-locale',
    reason: 'setlocale() with LANG=C.UTF-8 reads the C.utf8 locale (the only one Debian ships prebuilt)',
    when: { imports: ['setlocale', 'newlocale'] },
    keep: ['usr/lib/locale/C.utf8/**'],
  },
  {
    name: 'systemd-locale',
    reason: 'systemd gives every service the locale /etc/locale.conf names (C.UTF-8 without one), and a program calling setlocale() loads it from /usr/lib/locale',
    when: { reaches: ['usr/lib/systemd/systemd'] },
    keep: ['usr/lib/locale/$LOCALE/**'],
  },
  {
    name: 'shell',
    reason: 'system() and popen() run their command through /bin/sh',
    when: { imports: ['system', 'popen'] },
    keep: ['bin/sh', 'usr/bin/sh'],
  },
  {
    name: 'openssl',
    reason: 'OpenSSL reads openssl.cnf (through the links in /usr/lib/ssl, its OPENSSLDIR) when it starts',
    when: { reaches: [`${LIB}/libcrypto.so.*`] },
    // Not usr/lib/ssl/misc: CA.pl and tsget.pl are perl scripts of the openssl command-line tool's package,
    // which no library runs (kept, they would bring perl and its whole library).
    keep: ['usr/lib/ssl/*.cnf', 'usr/lib/ssl/cert.pem', 'usr/lib/ssl/certs', 'usr/lib/ssl/private', 'etc/ssl/**'],
  },
  {
    name: 'openssl-providers',
    reason: 'OpenSSL loads providers (legacy, fips, …) from ossl-modules with dlopen() when openssl.cnf activates them or the program loads one by name; the default provider is built into libcrypto',
    when: { imports: ['OSSL_PROVIDER_load', 'OSSL_PROVIDER_try_load', 'OSSL_PROVIDER_load_ex', 'OSSL_PROVIDER_try_load_ex'], reaches: ['usr/lib/ssl/openssl.cnf', 'etc/ssl/openssl.cnf'] },
    keep: [`${LIB}/ossl-modules/**`],
  },
  {
    name: 'openssl-engines',
    reason: 'OpenSSL loads engines (afalg, padlock, loader_attic, …) from engines-3 with dlopen() when openssl.cnf names them or the program asks for one by id (nginx\'s ssl_engine)',
    when: { imports: ['ENGINE_by_id', 'ENGINE_load_builtin_engines', 'ENGINE_load_dynamic'], reaches: ['usr/lib/ssl/openssl.cnf', 'etc/ssl/openssl.cnf'] },
    keep: [`${LIB}/engines-*/**`],
  },
  {
    name: 'ca-certificates',
    reason: 'TLS clients read the trusted certificates from /etc/ssl/certs, which link into /usr/share/ca-certificates',
    when: { reaches: [`${LIB}/libssl.so.*`, `${LIB}/libgnutls.so.*`] },
    keep: ['etc/ssl/certs/**', 'usr/share/ca-certificates/**'],
  },
  {
    name: 'nginx',
    reason: 'nginx loads dynamic modules from /usr/lib/nginx/modules and serves its default pages from /usr/share/nginx',
    when: { reaches: ['usr/sbin/nginx'] },
    keep: ['usr/lib/nginx/**', 'usr/share/nginx/**'],
  },
  {
    name: 'apache2',
    reason: 'apache2 loads its modules (mod_*.so) and reads its default pages at run time',
    when: { reaches: ['usr/sbin/apache2'] },
    keep: ['usr/lib/apache2/**', 'usr/share/apache2/**'],
  },
  {
    name: 'postgresql',
    reason: 'postgres and initdb read their share directory (catalog bootstrap, time-zone sets, text-search data, extension scripts), load server modules (plpgsql, dictionaries, encoding converters, walreceiver) by name, and read the system time-zone database by fixed path',
    when: { reaches: ['usr/lib/postgresql/*/bin/postgres', 'usr/lib/postgresql/*/bin/initdb'] },
    keep: [
      'usr/share/postgresql/**', 'usr/share/zoneinfo/**',
      // Every module but llvmjit.so: the JIT is optional (postgres runs queries without it when it cannot be
      // loaded) and it alone needs libLLVM (about 130 MB). Add it with trim.keep for jit = on.
      'usr/lib/postgresql/*/lib/[!l]*.so', 'usr/lib/postgresql/*/lib/l[!l]*.so',
    ],
  },
  {
    name: 'python3',
    reason: 'the Python interpreter imports its standard library and installed modules at run time',
    when: { reaches: ['usr/bin/python3.*'] },
    // Not usr/share/python3: Debian's byte-compiling tools and runtime.d hooks (shell scripts dpkg triggers
    // run), which the interpreter never reads.
    keep: ['usr/lib/python3*/**', 'usr/lib/python3/dist-packages/**'],
  },
  {
    name: 'perl',
    reason: 'perl loads its modules (.pm) and their shared objects at run time',
    when: { reaches: ['usr/bin/perl', 'usr/bin/perl5*'] },
    keep: [`${LIB}/perl-base/**`, `${LIB}/perl/**`, `${LIB}/perl5/**`, 'usr/share/perl/**', 'usr/share/perl5/**'],
  },
  {
    name: 'server-share',
    reason: "a server reads its own data at run time from a directory named after it or its package (SQL schemas, templates, web pages, error messages): /usr/share/NAME, /usr/lib/NAME, /usr/libexec/NAME",
    // $PROGRAM and $PACKAGE: the workload's program and its package (named, mariadb-server-core, …).
    when: { runs: ['usr/sbin/*', 'usr/bin/*', 'usr/lib/*/bin/*', 'usr/libexec/*'] },
    keep: ['usr/share/$PROGRAM/**', 'usr/share/$PACKAGE/**', 'usr/lib/$PROGRAM/**', 'usr/lib/$PACKAGE/**', 'usr/libexec/$PROGRAM/**'],
  },
  {
    name: 'erlang',
    reason: "the Erlang runtime (erl, beam.smp) loads its applications, boot scripts and the runtime's own programs (erlexec, epmd, inet_gethost) from its library tree",
    when: { reaches: ['usr/lib/erlang/erts-*/bin/*', 'usr/lib/erlang/bin/*'] },
    keep: ['usr/lib/erlang/**'],
  },
  {
    name: 'java',
    reason: 'a Java runtime loads its modules, libraries (libjvm.so by a path relative to itself) and security policy from its own tree under /usr/lib/jvm',
    when: { reaches: ['usr/lib/jvm/*/bin/java', 'usr/lib/jvm/*/lib/server/libjvm.so'] },
    keep: ['usr/lib/jvm/**', 'etc/java-*/**'],
  },
  {
    name: 'lua',
    reason: 'Lua loads modules with require() from /usr/share/lua and /usr/lib/<triplet>/lua',
    when: { reaches: ['usr/bin/lua5.*', `${LIB}/liblua5.*.so.*`] },
    keep: ['usr/share/lua/**', `${LIB}/lua/**`],
  },
  {
    name: 'ruby',
    reason: 'Ruby loads its standard library and gems at run time',
    when: { reaches: ['usr/bin/ruby*', `${LIB}/libruby-*.so.*`] },
    keep: ['usr/lib/ruby/**', `${LIB}/ruby/**`, 'usr/share/rubygems-integration/**'],
  },
  {
    name: 'nodejs',
    reason: "Node.js loads the modules a program requires from the system's module directories",
    when: { reaches: ['usr/bin/node', 'usr/bin/nodejs'] },
    keep: ['usr/share/nodejs/**', 'usr/lib/nodejs/**', `${LIB}/nodejs/**`],
  },
  {
    name: 'php',
    reason: 'PHP loads its extensions (.so) and reads its ini files and PEAR/library code at run time',
    when: { reaches: ['usr/sbin/php-fpm*', 'usr/bin/php*', 'usr/lib/apache2/modules/libphp*.so'] },
    keep: ['usr/lib/php/**', 'usr/share/php/**'],
  },
  {
    name: 'gcc',
    reason: "a C compiler a server runs (a JIT, a plugin build) runs its own programs (cc1, collect2, lto-wrapper) from /usr/libexec/gcc, the assembler and linker on the PATH, and links with the C library's start files and linker scripts",
    when: { reaches: ['usr/bin/gcc-*', 'usr/bin/*-linux-*-gcc-*', 'usr/bin/cc', 'usr/bin/c99-gcc'] },
    keep: [
      'usr/libexec/gcc/**', 'usr/lib/gcc/**', 'usr/bin/*-linux-*-as', 'usr/bin/as', 'usr/bin/*-linux-*-ld*', 'usr/bin/ld*',
      `${LIB}/crt*.o`, `${LIB}/libc.so`, `${LIB}/libc_nonshared.a`, `${LIB}/libm.so`, 'usr/include/**',
    ],
  },
  {
    name: 'tzdata',
    reason: "time-zone conversions read /usr/share/zoneinfo: C's through /etc/localtime, and a runtime's time-zone modules, which open its files by a path they build at run time (Python's zoneinfo, and pytz, which Debian points at the system database and which reads tzdata.zi when imported)",
    // A runtime's data files are kept when the runtime's module that reads them is kept: the trim never sees
    // the path, which the module joins from a search path (zoneinfo.TZPATH) and a key.
    when: { reaches: ['usr/share/zoneinfo/**', 'etc/localtime', 'usr/lib/python3.*/zoneinfo/_tzpath.py', 'usr/lib/python3/dist-packages/pytz/__init__.py'] },
    keep: ['usr/share/zoneinfo/**'],
  },
  {
    name: 'systemd',
    reason: 'systemd reads its units and tmpfiles/sysctl/modules-load configuration, and runs its executor, generators, shutdown helper and mount(8) by path',
    when: { reaches: ['usr/lib/systemd/systemd'] },
    keep: [
      // Units are data; the programs of the enabled ones are kept through their Exec lines (units.ts).
      'usr/lib/systemd/system/**', 'usr/lib/systemd/system-generators/**', 'usr/lib/systemd/system-preset/**',
      'usr/lib/systemd/network/**', 'usr/lib/systemd/*.conf', 'usr/lib/systemd/systemd-executor', 'usr/lib/systemd/systemd-shutdown',
      'usr/lib/systemd/systemd-sulogin-shell', 'usr/lib/tmpfiles.d/**', 'usr/lib/sysctl.d/**', 'usr/lib/modules-load.d/**',
      'usr/lib/sysusers.d/**', 'usr/lib/environment.d/**', 'usr/lib/os-release', 'usr/bin/systemctl',
      // .mount units are carried out by running mount(8) and umount(8).
      'usr/bin/mount', 'usr/bin/umount',
    ],
  },
];

/**
 * Paths a trim always drops, whatever reaches them: documentation, manuals,
 * translations, packaging metadata and interactive-shell completions. A
 * package's copyright file stays while anything else of it does (trim.ts).
 * `trim.keep` and `trim.locales` override.
 */
export const ALWAYS_DROPPED: readonly string[] = [
  'usr/share/doc/**', 'usr/share/man/**', 'usr/share/info/**', 'usr/share/locale/**', 'usr/share/lintian/**',
  'usr/share/linda/**', 'usr/share/bug/**', 'usr/share/doc-base/**', 'usr/share/menu/**', 'usr/share/bash-completion/**',
  'usr/share/zsh/**', 'usr/share/fish/**', 'usr/share/gtk-doc/**', 'usr/share/help/**',
  // Control members only dpkg-shlibdeps, debconf and a later dpkg run read: a trimmed image carries no
  // dpkg to run maintainer scripts or triggers. Status, file lists, md5sums and conffiles stay.
  ...['symbols', 'shlibs', 'templates', 'triggers', 'preinst', 'postinst', 'prerm', 'postrm', 'config'].map((m) => `var/lib/dpkg/info/*.${m}`),
];

/** Files inside ALWAYS_DROPPED that are not dropped outright: licences travel with the files of their package (trim.ts keepLicences). */
export const ALWAYS_KEPT: readonly string[] = ['usr/share/doc/*/copyright'];

/** Top-level areas kept whole: configuration, state and data a package sets up for its program. */
export const KEPT_AREAS: readonly string[] = ['etc', 'var', 'srv', 'run', 'tmp', 'root', 'home'];
