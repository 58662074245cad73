// The floor (floor.ts) in a process of its own, for workloads whose load generator would otherwise share an event
// loop with it (the fleet pull): prints "floor listening on HOST" and serves until killed.
import { startFloor } from './floor.ts';

const floor = await startFloor();
process.stdout.write(`floor listening on ${floor.host}\n`);
process.on('SIGTERM', () => {
  void floor.close().then(() => process.exit(0));
});
