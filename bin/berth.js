#!/usr/bin/env node
// The `berth` command. Runs on the Node.js pinned in package.json (npm puts it first on PATH), which strips
// TypeScript types natively, so the sources run as they are, with no build step.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  console.error(`berth needs Node.js 24 or newer (this is ${process.version}). Run it through npm (npm start, npx berth), which uses the Node.js pinned in package.json.`);
  process.exit(1);
}
await import('../src/cli/main.ts');
