#!/usr/bin/env node
// `npm test`: type-check the sources, then run every test with Node's own test runner.
// `npm test -- <files or globs>` runs only those (the type check still runs first).
import { spawnSync } from 'node:child_process';

const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  console.error(`npm test needs the pinned Node.js 24 (got ${process.version}); run it through npm.`);
  process.exit(1);
}

const run = (cmd, args) => spawnSync(cmd, args, { stdio: 'inherit' }).status ?? 1;

if (process.env.BERTH_SKIP_TYPECHECK !== '1') {
  // Everything, tests and benchmarks included, is type-checked; the build then compiles src/ to dist/, which the
  // tests' servers run (as users' do).
  console.log('# type check (tsc)');
  const tsc = run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json']);
  if (tsc !== 0) process.exit(tsc);
  // Formatting and lint errors (biome.json): `npx biome format --write .` formats; warnings are shown by
  // `npx biome lint .` and do not fail the run.
  console.log('# format and lint (biome)');
  const biome = run(process.execPath, ['node_modules/@biomejs/biome/bin/biome', 'ci', '--diagnostic-level=error', '--colors=off', '.']);
  if (biome !== 0) process.exit(biome);
  console.log('# build (dist/)');
  const build = run(process.execPath, ['scripts/build.js']);
  if (build !== 0) process.exit(build);
}

const files = process.argv.slice(2);
const targets = files.length > 0 ? files : ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'];
process.exit(run(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=600000', ...targets]));
