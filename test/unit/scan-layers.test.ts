import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { createGzip, gzipSync } from 'node:zlib';
import { UnsupportedLayerError, walkLayers, type Layer } from '../../src/scan/layers.ts';
import { layerOf, makeTar, MEDIA } from '../helpers/tar-layers.ts';

const wantAllButTmp = (path: string): boolean => !path.startsWith('tmp/');

test('layers in order: gzip, zstd and plain tar; the last version wins; whiteouts and opaque directories apply', async () => {
  const base = await makeTar([
    { name: 'etc/', type: 'directory' },
    { name: 'etc/os-release', type: 'symlink', linkname: '../usr/lib/os-release' },
    { name: 'usr/lib/os-release', content: 'ID=debian\nVERSION_ID="11"\n' },
    { name: 'var/lib/dpkg/status', content: 'Package: old\n' },
    { name: 'opt/app/a.txt', content: 'a' },
    { name: 'opt/app/b.txt', content: 'b' },
    { name: 'srv/x', content: 'x' },
    { name: 'srv/y/z', content: 'z' },
    { name: 'etc/gone.txt', content: 'gone' },
    { name: 'etc/conf', content: 'a file that becomes a directory' },
    { name: 'etc/grows', content: 'small' },
    { name: 'tmp/unwanted.txt', content: 'not kept' },
    { name: './usr/share/doc/big', content: Buffer.alloc(2048, 1) },
  ]);
  const middle = await makeTar([
    { name: 'usr/lib/os-release', content: 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n' },
    { name: 'var/lib/dpkg/status', content: 'Package: new\n' },
    { name: 'opt/app/.wh..wh..opq', content: '' },
    { name: 'opt/app/c.txt', content: 'c' },
    { name: 'etc/.wh.gone.txt', content: '' },
    { name: 'usr/lib/os-release.hardlink', type: 'link', linkname: 'usr/lib/os-release' },
  ]);
  const top = await makeTar([
    { name: '.wh.srv', content: '' },
    { name: 'etc/conf/', type: 'directory' },
    { name: 'etc/grows', content: Buffer.alloc(4096, 2) },
    { name: 'srv/new', content: 'recreated in the same layer as its whiteout' },
  ]);
  const files = await walkLayers([layerOf(base, MEDIA.gzip), layerOf(middle, MEDIA.zstd), layerOf(top, MEDIA.tar)], {
    want: wantAllButTmp,
    maxFileSize: 1024,
  });
  assert.deepEqual(files.paths(), [
    'etc/grows',
    'etc/os-release',
    'opt/app/c.txt',
    'srv/new',
    'usr/lib/os-release',
    'usr/lib/os-release.hardlink',
    'usr/share/doc/big',
    'var/lib/dpkg/status',
  ]);
  assert.equal(files.files.get('etc/grows')?.oversized, 4096, 'noted, not kept');
  assert.equal(files.files.get('usr/share/doc/big')?.oversized, 2048);
  assert.equal(files.readText('var/lib/dpkg/status'), 'Package: new\n');
  assert.equal(
    files.readText('/etc/os-release'),
    'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n',
    'symlink followed to the upper version',
  );
  assert.equal(files.readText('usr/lib/os-release.hardlink'), files.readText('usr/lib/os-release'));
  assert.equal(files.resolve('etc/os-release')?.layer, 1);
  assert.equal(files.files.get('etc/os-release')?.linkTarget, '../usr/lib/os-release');
  assert.equal(files.read('opt/app/a.txt'), undefined, 'opaque directory hides the lower layer');
  assert.equal(files.read('etc/gone.txt'), undefined, 'whiteout');
  assert.equal(files.read('srv/y/z'), undefined, 'whiteout of a directory removes its tree');
  assert.equal(files.read('etc/conf'), undefined, 'replaced by a directory');
  assert.equal(files.read('etc/grows'), undefined, 'replaced by a file over the size limit');
  assert.equal(files.read('usr/share/doc/big'), undefined, 'over the size limit');
  const perPath = await walkLayers([layerOf(base, MEDIA.gzip)], {
    want: wantAllButTmp,
    maxFileSize: (p) => (p === 'usr/share/doc/big' ? 4096 : 0),
  });
  assert.equal(perPath.read('usr/share/doc/big')?.length, 2048, 'a limit per path');
  assert.equal(perPath.files.get('srv/x')?.oversized, 1);
  assert.equal(files.read('tmp/unwanted.txt'), undefined, 'not wanted');
});

test('only wanted files are read; Docker media types; absolute symlinks and loops', async () => {
  const tarball = await makeTar([
    { name: 'lib/apk/db/installed', content: 'P:musl\nV:1.2.4-r2\n' },
    { name: 'usr/lib/os-release', content: 'ID=alpine\n' },
    { name: 'etc/os-release', type: 'symlink', linkname: '/usr/lib/os-release' },
    { name: 'loop/a', type: 'symlink', linkname: 'b' },
    { name: 'loop/b', type: 'symlink', linkname: 'a' },
  ]);
  const asked: string[] = [];
  const files = await walkLayers([layerOf(tarball, MEDIA.dockerGzip)], {
    want: (p) => {
      asked.push(p);
      return true;
    },
  });
  assert.deepEqual(asked, ['lib/apk/db/installed', 'usr/lib/os-release', 'etc/os-release', 'loop/a', 'loop/b']);
  assert.equal(files.readText('etc/os-release'), 'ID=alpine\n');
  assert.equal(files.read('loop/a'), undefined);
});

test('a 64 MiB layer read as a stream keeps only the wanted file', async () => {
  // 64 MiB of other files around one small wanted file; the layer is gzip-compressed as it is read.
  const big = Buffer.alloc(16 * 1024 * 1024, 7);
  const tarball = await makeTar([
    { name: 'data/1.bin', content: big },
    { name: 'data/2.bin', content: big },
    { name: 'var/lib/dpkg/status', content: 'Package: tiny\n' },
    { name: 'data/3.bin', content: big },
    { name: 'data/4.bin', content: big },
  ]);
  let opened = 0;
  const layer: Layer = {
    mediaType: MEDIA.gzip,
    open: () => {
      opened++;
      return Readable.from([tarball]).pipe(createGzip({ level: 1 }));
    },
  };
  const files = await walkLayers([layer], { want: (p) => p === 'var/lib/dpkg/status' });
  assert.equal(opened, 1);
  assert.deepEqual(files.paths(), ['var/lib/dpkg/status']);
  assert.equal(files.readText('var/lib/dpkg/status'), 'Package: tiny\n');
});

test('unsupported media types and corrupt layers fail', async () => {
  const tarball = await makeTar([{ name: 'a', content: 'a' }]);
  await assert.rejects(
    walkLayers([{ mediaType: 'application/vnd.oci.image.layer.v1.tar+bzip2', open: () => Readable.from([tarball]) }], { want: () => true }),
    UnsupportedLayerError,
  );
  const truncated = gzipSync(tarball).subarray(0, 20);
  await assert.rejects(walkLayers([{ mediaType: MEDIA.gzip, open: () => Readable.from([truncated]) }], { want: () => true }));
  await assert.rejects(
    walkLayers([{ mediaType: MEDIA.zstd, open: () => Readable.from([Buffer.from('not zstd at all')]) }], { want: () => true }),
  );
});
