// `berth apply -f <file> [--dry-run] [--prune] [--force-delete-images]`: reads and checks the whole file first
// (YAML, schema, names given twice: every problem at its line), reads what the registry holds, prints the plan,
// and, unless it is a dry run, makes the changes in order: repositories, registry settings, users, webhooks, then
// what --prune deletes (a new webhook's secret is printed when it is created, the one time it is shown). Nothing is changed when the file has a problem or asks for what ECR cannot change.
import { currentState } from './current.ts';
import { desiredState, type Desired } from './desired.ts';
import { readRegistryFile, RegistryFileError, type RegistryFile } from './file.ts';
import { plan, type Change } from './plan.ts';
import type { RegistryApi } from './registry-api.ts';
import { formatPlan, summary } from './report.ts';
import { checkSchema } from './schema.ts';

export interface ApplyOptions {
  dryRun: boolean;
  prune: boolean;
  forceDeleteImages: boolean;
}

/** A call the registry refused while applying: which change, at which line, and what was done before it. */
export class ApplyError extends Error {}

/** Reads and checks the file without touching any registry; throws a RegistryFileError. */
export function loadRegistryFile(path: string): { file: RegistryFile; desired: Desired } {
  const file = readRegistryFile(path);
  checkSchema(file);
  return { file, desired: desiredState(file) };
}

export async function applyFile(
  loaded: { file: RegistryFile; desired: Desired },
  api: RegistryApi,
  options: ApplyOptions,
  print: (line: string) => void,
): Promise<{ changes: Change[] }> {
  const { file, desired } = loaded;
  const current = await currentState(api, desired, options.prune);
  const { changes, conflicts } = plan(desired, current, options);
  if (conflicts.length > 0) throw file.error(conflicts);
  for (const line of formatPlan(changes)) print(line);
  const done = summary(changes);
  if (done === 'no changes') {
    print(`no changes: the registry holds what ${file.name} says`);
    return { changes };
  }
  if (options.dryRun) {
    print(`dry run: ${done} (nothing was changed)`);
    return { changes };
  }
  let made = 0;
  for (const change of changes) {
    try {
      for (const step of change.steps) {
        const answer = await api[step.api](step.operation, step.input);
        if (step.reveal) print(step.reveal(answer));
      }
    } catch (e) {
      const where = change.path ? `${file.name}:${file.locate(change.path).line}: ` : '';
      throw new ApplyError(
        `${where}${change.resource} ${change.name}: ${(e as Error).message}\n(stopped after ${made} of ${changes.length} changes; apply again once it is fixed)`,
        { cause: e },
      );
    }
    made++;
  }
  print(`applied: ${done.replaceAll('to create', 'created').replaceAll('to update', 'updated').replaceAll('to delete', 'deleted')}`);
  return { changes };
}

export { RegistryFileError };
export { isApiError } from './registry-api.ts';
