// The filesystem blob store's upload path against real filesystems: O_DIRECT on the temporary directory's
// filesystem, buffered writes when asked, and tmpfs (which refused O_DIRECT before Linux 6.6; whichever way
// the kernel here goes, the bytes must land).
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FilesystemBlobStore } from '../../src/storage/blobs/fs.ts';

const O_DIRECT = 0o40000; // x86_64 and arm64 Linux

const roots: string[] = [];
after(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

function makeRoot(parent: string): string {
  const root = mkdtempSync(join(parent, 'berth-blobstore-'));
  roots.push(root);
  return root;
}

/** Flags (octal, from /proc/self/fdinfo) of this process's open descriptors on `path`. */
function openFlags(path: string): number[] {
  const flags: number[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue;
    }
    if (target !== path) continue;
    const m = /flags:\s+([0-7]+)/.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
    if (m) flags.push(parseInt(m[1], 8));
  }
  return flags;
}

const MiB = 1 << 20;
/** Append sizes that cross 4096-byte blocks and 1 MiB buffers at odd places, and start appends mid-block. */
const APPENDS = [[1], [4095, 1], [4097], [MiB + 3, 100], [3 * MiB - 7], [5], [2 * MiB]];

const cases: { name: string; parent: string; directIO: boolean; expectDirect?: boolean }[] = [
  { name: 'O_DIRECT on the temporary directory', parent: tmpdir(), directIO: true, expectDirect: true },
  { name: 'buffered writes (directIO off)', parent: tmpdir(), directIO: false, expectDirect: false },
  { name: 'tmpfs (/dev/shm)', parent: '/dev/shm', directIO: true },
];

for (const c of cases) {
  describe(`blob store uploads: ${c.name}`, () => {
    test('appends of every size land byte for byte, each starting where the last ended', async () => {
      assert.ok(existsSync(c.parent), `${c.parent} must exist for this test`);
      const store = new FilesystemBlobStore(makeRoot(c.parent), { directIO: c.directIO });
      await store.init();
      await store.createUpload('u1');
      const dataPath = join(store.root, 'uploads', 'u1', 'data');
      const expected: Buffer[] = [];
      let total = 0;
      const seenFlags: number[] = [];
      for (const sizes of APPENDS) {
        const chunks = sizes.map((n) => randomBytes(n));
        async function* body() {
          for (const chunk of chunks) {
            yield chunk;
            seenFlags.push(...openFlags(dataPath));
          }
        }
        const size = await store.append('u1', body());
        total += sizes.reduce((a, b) => a + b, 0);
        expected.push(...chunks);
        assert.equal(size, total, `size after appending ${sizes.join('+')} bytes`);
        assert.equal(await store.uploadSize('u1'), total);
      }
      const want = Buffer.concat(expected);
      assert.ok(readFileSync(dataPath).equals(want), 'the upload file holds exactly the bytes appended, in order');
      assert.ok(seenFlags.length > 0, 'the upload file was open while its body was read');
      if (c.expectDirect !== undefined) {
        assert.equal(seenFlags.some((f) => (f & O_DIRECT) !== 0), c.expectDirect, `O_DIRECT in use: ${c.expectDirect}`);
      }

      const digest = `sha256:${createHash('sha256').update(want).digest('hex')}`;
      await store.commit('u1', digest);
      assert.equal(await store.stat(digest), want.length);
      assert.ok(readFileSync(store.blobPath(digest)).equals(want));
      assert.equal(existsSync(dataPath), false, 'the upload is gone once committed');
    });

    test('a body that fails half way leaves a prefix of it, and the upload resumes from the size it reports', async () => {
      const store = new FilesystemBlobStore(makeRoot(c.parent), { directIO: c.directIO });
      await store.init();
      await store.createUpload('u2');
      const data = randomBytes(5 * MiB + 12345);
      await store.append('u2', [data.subarray(0, 777)]);
      async function* failing() {
        for (let at = 777; at < 4 * MiB; at += 65536) yield data.subarray(at, Math.min(at + 65536, 4 * MiB));
        throw new Error('the client went away');
      }
      await assert.rejects(store.append('u2', failing()), /the client went away/);
      const kept = (await store.uploadSize('u2'))!;
      assert.ok(kept >= 777 && kept <= 4 * MiB, `kept ${kept} bytes`);
      const dataPath = join(store.root, 'uploads', 'u2', 'data');
      assert.ok(readFileSync(dataPath).equals(data.subarray(0, kept)), 'what was kept is exactly the start of the data');
      const size = await store.append('u2', [data.subarray(kept)]);
      assert.equal(size, data.length);
      assert.ok(readFileSync(dataPath).equals(data));
    });
  });
}
