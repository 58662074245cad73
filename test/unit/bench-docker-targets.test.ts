// The benchmark's docker targets (bench/lib/report.ts): the floor measured in the same rounds goes beside each
// figure, and a lead no larger than the floor's own drift between the two registries' rounds is a tie, not a win.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildFigures, evaluateTargets } from '../../bench/lib/report.ts';

function pullTarget(berth: Record<string, number[]>, distribution: Record<string, number[]>) {
  const figures = buildFigures({ berth: new Map(Object.entries(berth)), distribution: new Map(Object.entries(distribution)) });
  const t = evaluateTargets(figures).find((x) => x.target.startsWith('docker pull'));
  assert.ok(t, 'a docker pull target');
  return t;
}

test('a lead larger than the floor drift is met, with the floor beside it', () => {
  const t = pullTarget(
    { docker_pull_s: [1.0, 1.0, 1.0], docker_pull_floor_s: [0.95, 0.96, 0.97] },
    { docker_pull_s: [1.2, 1.2, 1.2], docker_pull_floor_s: [0.96, 0.96, 0.96] },
  );
  assert.equal(t.met, true);
  assert.equal(t.shortfall, undefined);
  assert.match(t.measured, /the floor in the same rounds: 0\.96 s beside Berth, 0\.96 s beside distribution/);
  assert.match(t.measured, /Berth \+0\.040 s, distribution \+0\.240 s/);
});

test('a lead no larger than the floor drift is a tie, not met', () => {
  const t = pullTarget(
    { docker_pull_s: [1.21, 1.21, 1.21], docker_pull_floor_s: [1.18, 1.18, 1.18] },
    { docker_pull_s: [1.23, 1.23, 1.23], docker_pull_floor_s: [1.09, 1.09, 1.09] },
  );
  assert.equal(t.met, false);
  assert.match(
    t.shortfall ?? '',
    /^a tie: Berth and distribution differ by -1\.6 %, no more than the floor differs between their rounds \(8\.3 %\)/,
  );
});

test('a Berth slower by more than the floor drift is a miss, by how much', () => {
  const t = pullTarget({ docker_pull_s: [1.5], docker_pull_floor_s: [1.0] }, { docker_pull_s: [1.0], docker_pull_floor_s: [1.0] });
  assert.equal(t.met, false);
  assert.match(t.shortfall ?? '', /50 % higher than distribution/);
});

test('without a floor figure, the plain comparison', () => {
  const t = pullTarget({ docker_pull_s: [1.0] }, { docker_pull_s: [1.1] });
  assert.equal(t.met, true);
  assert.doesNotMatch(t.measured, /floor/);
});
