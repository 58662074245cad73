// Package databases as the package managers write them, for the scanner's tests (no Alpine or Rocky image can be
// pulled here). Package names, versions and source packages are those of the real distributions' releases.
import type { RpmFields } from './rpmdb.ts';

export const DEBIAN_OS_RELEASE = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
`;

export const ALPINE_OS_RELEASE = `NAME="Alpine Linux"
ID=alpine
VERSION_ID=3.18.3
PRETTY_NAME="Alpine Linux v3.18"
HOME_URL="https://alpinelinux.org/"
BUG_REPORT_URL="https://gitlab.alpinelinux.org/alpine/aports/-/issues"
`;

export const ROCKY_OS_RELEASE = `NAME="Rocky Linux"
VERSION="9.3 (Blue Onyx)"
ID="rocky"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.3"
PLATFORM_ID="platform:el9"
PRETTY_NAME="Rocky Linux 9.3 (Blue Onyx)"
ANSI_COLOR="0;32"
CPE_NAME="cpe:/o:rocky:rocky:9::baseos"
`;

export const DPKG_STATUS = `Package: libssl3
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 6207
Maintainer: Debian OpenSSL Team <pkg-openssl-devel@alioth-lists.debian.net>
Architecture: amd64
Multi-Arch: same
Source: openssl
Version: 3.0.11-1~deb12u2
Depends: libc6 (>= 2.34)
Description: Secure Sockets Layer toolkit - shared libraries
 This package is part of the OpenSSL project's implementation of the SSL and TLS
 cryptographic protocols for secure communication over the Internet.
 .
 It provides the libssl and libcrypto shared libraries.
Homepage: https://www.openssl.org/

Package: libbz2-1.0
Status: install ok installed
Priority: important
Section: libs
Installed-Size: 105
Maintainer: Anibal Monsalve Salazar <anibal@debian.org>
Architecture: amd64
Multi-Arch: same
Source: bzip2 (1.0.8-5)
Version: 1.0.8-5+b1
Depends: libc6 (>= 2.4)
Description: high-quality block-sorting file compressor library - runtime
 This package contains libbzip2 which is used by the bzip2 compressor.

Package: zlib1g
Status: install ok installed
Priority: required
Section: libs
Installed-Size: 168
Maintainer: Mark Brown <broonie@debian.org>
Architecture: amd64
Multi-Arch: same
Source: zlib
Version: 1:1.2.13.dfsg-1
Provides: libz1
Depends: libc6 (>= 2.14)
Description: compression library - runtime

Package: tar
Essential: yes
Status: install ok installed
Priority: required
Section: utils
Installed-Size: 3152
Maintainer: Janos Lenart <ocsi@debian.org>
Architecture: amd64
Version: 1.34+dfsg-1.2+deb12u1
Description: GNU version of the tar archiving utility

Package: libcurl4
Status: deinstall ok config-files
Priority: optional
Section: libs
Installed-Size: 1001
Maintainer: Alessandro Ghedini <ghedo@debian.org>
Architecture: amd64
Source: curl
Version: 7.88.1-10+deb12u4
Description: easy-to-use client-side URL transfer library (OpenSSL flavour)
`;

/** A distroless image's status.d: one stanza per file, no Status field, and md5sums lists to ignore. */
export const DISTROLESS_STATUS_D: Record<string, string> = {
  'var/lib/dpkg/status.d/base-files': `Package: base-files
Priority: required
Section: admin
Installed-Size: 340
Maintainer: Santiago Vila <sanvila@debian.org>
Architecture: amd64
Version: 12.4+deb12u5
Description: Debian base system miscellaneous files
`,
  'var/lib/dpkg/status.d/libssl3': `Package: libssl3
Priority: optional
Section: libs
Architecture: amd64
Source: openssl
Version: 3.0.11-1~deb12u2
Description: Secure Sockets Layer toolkit - shared libraries
`,
  'var/lib/dpkg/status.d/libssl3.md5sums': 'd41d8cd98f00b204e9800998ecf8427e  usr/lib/x86_64-linux-gnu/libssl.so.3\n',
};

export const APK_INSTALLED = `C:Q1kB8nPJ7uWJhz3EmgjqBk6l8wHxs=
P:musl
V:1.2.4-r1
A:x86_64
S:383459
I:622592
T:the musl c library (libc) implementation
U:https://musl.libc.org/
L:MIT
o:musl
m:Timo Teräs <timo.teras@iki.fi>
t:1687171364
c:1ad1c8c1b6c2bcbd3d1e32ed1f7cb0c4ad4d5ee5
p:so:libc.musl-x86_64.so.1=1
F:lib
R:ld-musl-x86_64.so.1
a:0:0:755
Z:Q1Z9Xb5zL7bPCyk7o+6R1W4T4OsR4=
R:libc.musl-x86_64.so.1
a:0:0:777

C:Q1j1m4r1xXtW0MGmjYbyO7jTcvSeA=
P:busybox
V:1.36.1-r2
A:x86_64
S:509813
I:958464
T:Size optimized toolbox of many common UNIX utilities
U:https://busybox.net/
L:GPL-2.0-only
o:busybox
m:Sören Tempel <soeren+alpine@soeren-tempel.net>
t:1690382566
c:d2a2b40d7b0a1ba46a4fd1e3a9d3a12ed05dd71c
D:so:libc.musl-x86_64.so.1
F:bin
R:busybox
a:0:0:755

C:Q1dXyDLYK1sM+bSJFE5ic2hrg1lh8=
P:libcrypto3
V:3.1.2-r0
A:x86_64
S:1760474
I:4448256
T:Crypto library from openssl
U:https://www.openssl.org/
L:Apache-2.0
o:openssl
m:Ariadne Conill <ariadne@dereferenced.org>
t:1690995404
c:5c3e2e1aeee1a1ec17d3ef20e25bfdb2fd8bc6d9
D:so:libc.musl-x86_64.so.1

C:Q1jbOk8ZrIT98yI+a4nl7+RkMd26I=
P:curl
V:8.2.1-r0
A:x86_64
S:141214
I:299008
T:URL retrival utility and library
U:https://curl.se/
L:curl
o:curl
m:Natanael Copa <ncopa@alpinelinux.org>
t:1690364405
c:0e4e30a1ab4bd0bdf3a8fb3c30b3b0a0cf4ae1a5

C:Q1xh7nbQnnaoCkSnMqoS5qD52TdmA=
P:ncurses-terminfo-base
V:6.4_p20230506-r0
A:x86_64
S:20962
I:94208
T:Descriptions of common terminals
U:https://invisible-island.net/ncurses/
L:MIT
o:ncurses
m:Natanael Copa <ncopa@alpinelinux.org>
t:1683472928
c:f5a8e1fbd0a4c7c1b0b7b27a9b7e2bb8a0e1b1e2
`;

export const ROCKY_PACKAGES: RpmFields[] = [
  {
    name: 'openssl-libs',
    version: '3.0.7',
    release: '24.el9',
    epoch: 1,
    arch: 'x86_64',
    sourceRpm: 'openssl-3.0.7-24.el9.src.rpm',
    summary: 'A general purpose cryptography library with TLS implementation',
  },
  {
    name: 'bash',
    version: '5.1.8',
    release: '6.el9_1',
    arch: 'x86_64',
    sourceRpm: 'bash-5.1.8-6.el9_1.src.rpm',
    summary: 'The GNU Bourne Again shell',
  },
  { name: 'rocky-release', version: '9.3', release: '1.2.el9', arch: 'noarch', sourceRpm: 'rocky-release-9.3-1.2.el9.src.rpm' },
  { name: 'gpg-pubkey', version: '350d275d', release: '6395c7b2' },
];

export const PACKAGE_LOCK_V3 = JSON.stringify({
  name: 'web',
  version: '1.0.0',
  lockfileVersion: 3,
  requires: true,
  packages: {
    '': { name: 'web', version: '1.0.0', dependencies: { lodash: '4.17.20', '@babel/core': '7.23.2' } },
    'node_modules/lodash': { version: '4.17.20', resolved: 'https://registry.npmjs.org/lodash/-/lodash-4.17.20.tgz' },
    'node_modules/@babel/core': { version: '7.23.2' },
    'node_modules/old/node_modules/lodash': { version: '4.17.4' },
    'node_modules/shared': { resolved: 'packages/shared', link: true },
    'node_modules/lodash-alias': { version: 'npm:lodash@4.17.11' },
  },
});

export const PACKAGE_LOCK_V1 = JSON.stringify({
  name: 'legacy',
  version: '1.0.0',
  lockfileVersion: 1,
  dependencies: {
    minimist: { version: '1.2.5' },
    mkdirp: { version: '0.5.1', dependencies: { minimist: { version: '0.0.8' } } },
    local: { version: 'file:../local' },
  },
});

export const REQUESTS_METADATA = `Metadata-Version: 2.1
Name: requests
Version: 2.28.1
Summary: Python HTTP for Humans.
Home-page: https://requests.readthedocs.io
Author: Kenneth Reitz
License: Apache 2.0
Requires-Python: >=3.7, <4

Version: 9.9.9 (in the description, not a header)
`;

export const URLLIB3_PKG_INFO = `Metadata-Version: 2.1
Name: urllib3
Version: 1.26.5
Summary: HTTP library with thread-safe connection pooling, file post, and more.
`;
