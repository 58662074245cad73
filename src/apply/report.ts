// The plan as text: one line per resource (+ create, ~ update, - delete, ! kept), its field changes under it, and
// a summary line; "no changes" when the registry already holds what the file says.
import type { Change } from './plan.ts';
import type { Json } from './desired.ts';

const MARK = { create: '+', update: '~', delete: '-', kept: '!' } as const;

export function formatPlan(changes: Change[]): string[] {
  const lines: string[] = [];
  for (const c of changes) {
    const what = c.resource === 'registry' ? 'registry settings' : `${c.resource} ${c.name}`;
    lines.push(`${MARK[c.action]} ${what}${c.action === 'kept' ? ' (not deleted)' : ''}${c.note ? `: ${c.note}` : ''}`);
    for (const f of c.fields) {
      if (f.before === undefined) lines.push(`    + ${f.path}: ${shown(f.after)}`);
      else if (f.after === undefined) lines.push(`    - ${f.path}: ${shown(f.before)}`);
      else lines.push(`    ~ ${f.path}: ${shown(f.before)} -> ${shown(f.after)}`);
    }
  }
  return lines;
}

export function summary(changes: Change[]): string {
  const count = (action: Change['action']) => changes.filter((c) => c.action === action).length;
  if (changes.every((c) => c.action === 'kept')) return 'no changes';
  const parts = [`${count('create')} to create`, `${count('update')} to update`, `${count('delete')} to delete`];
  return parts.join(', ');
}

const shown = (v: Json | undefined) => JSON.stringify(v);
