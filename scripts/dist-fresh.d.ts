/** Whether dist/ is at least as new as every file under src/ (see dist-fresh.js). */
export function distIsFresh(root: string): boolean;
