// The benchmark's machine bounds (bench/lib/report.ts): a floor measured beside each registry in the same rounds
// (the file-serving floor for the blob reads, the disk's durable write rate for the parallel uploads) goes beside
// the target, with the most a registry could reach: each distribution round's floor over that round's figure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildFigures, evaluateTargets } from '../../bench/lib/report.ts';

function targets(berth: Record<string, number[]>, distribution: Record<string, number[]>) {
  const figures = buildFigures({ berth: new Map(Object.entries(berth)), distribution: new Map(Object.entries(distribution)) });
  return evaluateTargets(figures);
}

const find = (all: ReturnType<typeof targets>, prefix: string) => {
  const t = all.find((x) => x.target.startsWith(prefix));
  assert.ok(t, `a target starting with "${prefix}"`);
  return t;
};

test('the file-serving floor bounds the cached, first and second reads, per round', () => {
  const all = targets(
    {
      get_MBps: [2600, 2700, 2800],
      get_first_MBps: [1000, 1000, 1000],
      get_second_MBps: [400, 450, 500],
      get_loopback_MBps: [4000, 4000, 4000],
      get_file_floor_MBps: [2800, 3000, 3200],
    },
    {
      get_MBps: [2000, 2000, 2400],
      get_first_MBps: [2000, 2000, 2400],
      get_second_MBps: [2000, 2000, 2400],
      get_loopback_MBps: [4000, 4000, 4000],
      // Per round 2600/2000, 2800/2000, 2600/2400: median 1.30, where the ratio of the medians would be 1.40.
      get_file_floor_MBps: [2600, 2800, 2600],
    },
  );
  const cached = find(all, 'blob GET, cached');
  assert.equal(cached.met, false);
  assert.match(cached.measured, /file-serving floor .* 3000 MB\/s beside Berth, 2600 MB\/s beside distribution, 1\.30× distribution/);
  // The floor beside Berth against the loopback limit beside it: 2800/4000, 3000/4000, 3200/4000.
  assert.match(cached.measured, /the floor is 75 % of the loopback limit beside Berth/);
  assert.match(find(all, 'blob GET, first read').measured, /1\.30× distribution: the most a server that keeps its blobs on disk/);
  assert.match(find(all, 'blob GET, second read').measured, /1\.30× distribution/);
});

test('the disk bounds the parallel uploads; a target above the bound is still judged on its own ratio', () => {
  const all = targets(
    { parallel_MBps: [700, 720, 740], parallel_disk_MBps: [1500, 1600, 1700] },
    { parallel_MBps: [400, 400, 400], parallel_disk_MBps: [1200, 1600, 1600] },
  );
  const t = find(all, 'parallel uploads');
  assert.equal(t.met, false);
  assert.match(t.measured, /^1\.80×, the median of per-round ratios/);
  assert.match(
    t.measured,
    /the disk .* 1600 MB\/s beside Berth, 1600 MB\/s beside distribution, 4\.00× distribution: the most an upload that is on disk before its 201 could reach/,
  );
});

test('without a floor in the run, the target says nothing of one', () => {
  const all = targets({ get_first_MBps: [1000], parallel_MBps: [700] }, { get_first_MBps: [2000], parallel_MBps: [400] });
  assert.doesNotMatch(find(all, 'blob GET, first read').measured, /floor/);
  assert.doesNotMatch(find(all, 'parallel uploads').measured, /disk/);
});
