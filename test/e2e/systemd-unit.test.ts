// packaging/berth.service with the real systemd-analyze: `verify` finds no error or warning (the unit's paths
// resolved in this checkout, which is laid out as /opt/berth is), and `security --offline` rates the sandbox's
// exposure at most 2.0 ("OK") with the hardening options named in docs/operations.md in force. Fails (never skips)
// without systemd-analyze (Debian's systemd package, installed by .ci/run).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeResult, makeTempDir, removeDir, requireTool, run } from '../helpers/tools.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const unitText = readFileSync(join(root, 'packaging', 'berth.service'), 'utf8');
let dir: string;
let unit: string;

before(async () => {
  await requireTool('systemd-analyze');
  dir = makeTempDir('berth-systemd-');
  unit = join(dir, 'berth.service');
  writeFileSync(unit, unitText.replaceAll('/opt/berth', root));
});
after(() => removeDir(dir));

/** The unit's settings, name → values (a name may be given more than once). */
function settings(text: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (m) found.set(m[1], [...(found.get(m[1]) ?? []), m[2]]);
  }
  return found;
}

test('systemd-analyze verify: no error, no warning', async () => {
  const r = await run('systemd-analyze', ['verify', unit]);
  assert.equal(r.code, 0, describeResult(r));
  assert.equal(r.stderr.trim(), '', describeResult(r));
  assert.match(unitText, /^ExecStart=\/opt\/berth\/node_modules\/node\/bin\/node \/opt\/berth\/bin\/berth\.js serve$/m);
});

test('the hardening options are set, and systemd-analyze security rates the exposure 2.0 or less', async () => {
  const s = settings(unitText);
  const expect: Record<string, string> = {
    DynamicUser: 'yes',
    StateDirectory: 'berth',
    StateDirectoryMode: '0700',
    CapabilityBoundingSet: '',
    AmbientCapabilities: '',
    NoNewPrivileges: 'yes',
    ProtectSystem: 'strict',
    ProtectHome: 'yes',
    PrivateTmp: 'yes',
    PrivateDevices: 'yes',
    PrivateUsers: 'yes',
    ProtectKernelTunables: 'yes',
    ProtectKernelModules: 'yes',
    ProtectControlGroups: 'yes',
    RestrictNamespaces: 'yes',
    RestrictSUIDSGID: 'yes',
    LockPersonality: 'yes',
    SystemCallArchitectures: 'native',
    UMask: '0077',
  };
  for (const [name, value] of Object.entries(expect)) assert.deepEqual(s.get(name), [value], `${name}=${value}`);
  assert.ok(
    s.get('Environment')?.some((e) => e.split(' ').includes('BERTH_DATA_DIR=/var/lib/berth')),
    'the data directory is the state directory',
  );
  assert.deepEqual(s.get('SystemCallFilter'), ['@system-service', '~@privileged']);

  const r = await run('systemd-analyze', ['security', '--offline=true', unit]);
  assert.equal(r.code, 0, describeResult(r));
  const level = /Overall exposure level for berth\.service: (\d+\.\d+)/.exec(r.stdout);
  assert.ok(level, describeResult(r));
  console.log(`# systemd-analyze security: exposure ${level[1]}`);
  assert.ok(Number(level[1]) <= 2.0, `exposure ${level[1]}:\n${r.stdout}`);
});
