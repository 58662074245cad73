// The console's JSON editors (repository, registry and identity policies, lifecycle rules): a text area that,
// after a refused save, shows where the text goes wrong: a syntax error at its line and column, or a grammar error
// ECR reported (`Statement[1]: Effect must be ...`, `unknown top-level element 'X'`) at the line of the statement
// or element it names. The message stays ECR's own; the script puts the cursor on that line.
import { html, type Html } from './html.ts';

export interface JsonErrorAt {
  line: number;
  column: number;
  /** What is wrong there (the parser's message, or ECR's). */
  message: string;
}

/** The position JSON.parse names in its message ("... in JSON at position 57 ..."). */
export const JSON_ERROR_POSITION = /at position (\d+)/;
/** What separates the words of an error message. */
export const NOT_WORD = /[^A-Za-z0-9_]+/;

/** Line and column (from 1) of an offset in the text. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      start = i + 1;
    }
  }
  return { line, column: Math.min(offset, text.length) - start + 1 };
}

/** The syntax error of a text that is not JSON, where it is; undefined when it is JSON. */
export function jsonSyntaxError(text: string): JsonErrorAt | undefined {
  try {
    JSON.parse(text);
    return undefined;
  } catch (e) {
    const message = (e as Error).message;
    const position = JSON_ERROR_POSITION.exec(message);
    // "Unexpected end of JSON input" names no position: the end is where it goes wrong.
    // An error past the last character (a document cut short) is at the end of its last line that has any.
    const offset = Math.min(position ? Number(position[1]) : text.length, text.trimEnd().length);
    const cut = message.indexOf(' in JSON at position');
    return { ...lineColumn(text, offset), message: cut > 0 ? message.slice(0, cut) : message };
  }
}

/** The line of every key and array element of a valid JSON text, by path (`Statement[0].Effect`, `Version`). */
function linesOfPaths(text: string): Map<string, number> {
  const lines = new Map<string, number>();
  let i = 0;
  let line = 1;
  const space = () => {
    while (i < text.length && ' \t\r\n'.includes(text[i])) {
      if (text[i] === '\n') line++;
      i++;
    }
  };
  const string = (): string => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (path: string, depth: number): void => {
    space();
    if (depth > 64) return;
    const c = text[i];
    if (c === '{') {
      i++;
      for (;;) {
        space();
        if (text[i] === '}' || i >= text.length) {
          i++;
          return;
        }
        if (text[i] === ',') {
          i++;
          continue;
        }
        const keyLine = line;
        const key = string();
        const child = path ? `${path}.${key}` : key;
        if (!lines.has(child)) lines.set(child, keyLine);
        space();
        i++; // the colon
        value(child, depth + 1);
      }
    } else if (c === '[') {
      i++;
      for (let n = 0; ; ) {
        space();
        if (text[i] === ']' || i >= text.length) {
          i++;
          return;
        }
        if (text[i] === ',') {
          i++;
          continue;
        }
        lines.set(`${path}[${n}]`, line);
        value(`${path}[${n}]`, depth + 1);
        n++;
      }
    } else if (c === '"') {
      string();
    } else {
      while (i < text.length && !',}] \t\r\n'.includes(text[i])) i++;
    }
  };
  value('', 0);
  return lines;
}

/** The statement an ECR policy message names ("Statement[2]: ..."), and the words it quotes or starts with. */
function namedPlace(message: string): { statement?: number; names: string[] } {
  const names: string[] = [];
  const marker = 'Statement[';
  const at = message.indexOf(marker);
  let statement: number | undefined;
  if (at >= 0) {
    const end = message.indexOf(']', at);
    const n = Number(message.slice(at + marker.length, end));
    if (Number.isInteger(n)) statement = n;
  }
  // Quoted names ('Foo') and capitalized words (Effect, Action, Principal, Version) are the candidates.
  for (const word of message.split(NOT_WORD)) if (word && word[0] >= 'A' && word[0] <= 'Z') names.push(word);
  return { statement, names };
}

/**
 * Where a text goes wrong: its syntax error, or, when it is JSON, the line of the statement or element ECR's
 * message names (undefined when it names none that the text has).
 */
export function jsonErrorAt(text: string, ecrMessage?: string): JsonErrorAt | undefined {
  const syntax = jsonSyntaxError(text);
  if (syntax || !ecrMessage) return syntax;
  const lines = linesOfPaths(text);
  const { statement, names } = namedPlace(ecrMessage);
  const base = statement === undefined ? '' : ([`Statement[${statement}]`, 'Statement'].find((p) => lines.has(p)) ?? '');
  for (const name of names) {
    const line = lines.get(base ? `${base}.${name}` : name);
    if (line !== undefined) return { line, column: 1, message: ecrMessage };
  }
  const line = base ? lines.get(base) : undefined;
  return line === undefined ? undefined : { line, column: 1, message: ecrMessage };
}

/** The lines around the error, numbered, the wrong one marked: shown under the editor. */
export function errorExcerpt(text: string, at: JsonErrorAt, id: string): Html {
  const all = text.split('\n');
  const from = Math.max(1, at.line - 2);
  const to = Math.min(all.length, at.line + 2);
  const rows: Html[] = [];
  for (let n = from; n <= to; n++) {
    rows.push(
      html`<span class="${n === at.line ? 'bad-line' : 'line'}"><span class="line-number">${String(n).padStart(3)}</span> ${all[n - 1]}</span>\n`,
    );
  }
  return html`<div class="json-error" id="${id}" role="alert">
<p><strong>Line ${at.line}, column ${at.column}:</strong> ${at.message}</p>
<pre>${rows}</pre>
</div>`;
}

export interface EditorParts {
  id: string;
  /** The form field's name. */
  name: string;
  label: string;
  text: string;
  /** The error of the save that was refused (ECR's message), to show where it is. */
  error?: string;
  placeholder?: string;
}

export function jsonEditor(p: EditorParts): Html {
  const at = p.error ? jsonErrorAt(p.text, p.error) : undefined;
  return html`<label for="${p.id}">${p.label}</label>
  <textarea id="${p.id}" name="${p.name}" spellcheck="false" ${p.placeholder ? html`placeholder="${p.placeholder}"` : ''} ${at ? html`data-error-line="${at.line}" data-error-column="${at.column}" aria-describedby="${p.id}-error" aria-invalid="true"` : ''}>${p.text}</textarea>
  ${at ? errorExcerpt(p.text, at, `${p.id}-error`) : ''}`;
}
