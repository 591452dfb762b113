// Label and field selectors as the API server parses and applies them:
// k8s.io/apimachinery/pkg/labels/selector.go (lexer, parser, Requirement.Matches) and
// k8s.io/apimachinery/pkg/fields/selector.go (ParseSelector, with `\` escapes).

/** One requirement of a label selector (apimachinery's `labels.Requirement`). */
export interface LabelRequirement {
  key: string;
  operator: 'exists' | '!' | '=' | '==' | '!=' | 'in' | 'notin' | 'gt' | 'lt';
  values: string[];
}

/** A parsed label selector: every requirement must hold. Empty matches everything. */
export type LabelSelector = readonly LabelRequirement[];

/** A selector string that does not parse; its message is what the API server answers with a 400. */
export class SelectorError extends Error {
  override readonly name = 'SelectorError';
}

type Token =
  | { kind: 'id'; value: string }
  | { kind: 'op'; value: '!' | '=' | '==' | '!=' | '>' | '<' | ',' | '(' | ')' }
  | { kind: 'in' | 'notin' | 'end' };

// The lexer's special characters (labels/lexer: isSpecialSymbol and whitespace end an identifier).
const SPECIAL = new Set(['!', '=', '>', '<', ',', '(', ')']);

function lex(s: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const ch = s[i]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (SPECIAL.has(ch)) {
      const two = s.slice(i, i + 2);
      if (two === '==' || two === '!=') {
        out.push({ kind: 'op', value: two });
        i += 2;
      } else {
        out.push({ kind: 'op', value: ch as '!' });
        i++;
      }
      continue;
    }
    let j = i;
    while (j < s.length && !SPECIAL.has(s[j]!) && !/\s/.test(s[j]!)) j++;
    const word = s.slice(i, j);
    out.push(word === 'in' ? { kind: 'in' } : word === 'notin' ? { kind: 'notin' } : { kind: 'id', value: word });
    i = j;
  }
  out.push({ kind: 'end' });
  return out;
}

function describe(t: Token): string {
  if (t.kind === 'id' || t.kind === 'op') return t.value;
  return t.kind === 'end' ? 'EOS' : t.kind;
}

// A qualified name: [prefix/]name, name ≤ 63 chars of [A-Za-z0-9_.-] starting and ending alphanumeric
// (apimachinery/pkg/util/validation IsQualifiedName).
const NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function validateKey(key: string): void {
  const slash = key.lastIndexOf('/');
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const ok =
    name.length > 0 &&
    name.length <= 63 &&
    NAME.test(name) &&
    (prefix === undefined || (prefix.length > 0 && prefix.length <= 253 && DNS1123_SUBDOMAIN.test(prefix)));
  if (!ok) {
    throw new SelectorError(
      `unable to parse requirement: invalid label key "${key}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`,
    );
  }
}

function validateValue(key: string, value: string): void {
  if (value === '' || (value.length <= 63 && NAME.test(value))) return;
  throw new SelectorError(
    `unable to parse requirement: values[0][${key}]: Invalid value: "${value}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`,
  );
}

/**
 * Parses a label selector (`app=web,tier!=db`, `env in (a,b)`, `env notin (c)`, `key`, `!key`,
 * `n>3`). Throws {@link SelectorError} with the API server's message when it does not parse.
 */
export function parseLabelSelector(selector: string | null | undefined): LabelSelector {
  const toks = lex(selector ?? '');
  let p = 0;
  const peek = () => toks[p]!;
  const next = () => toks[p++]!;
  const reqs: LabelRequirement[] = [];
  if (peek().kind === 'end') return reqs;
  for (;;) {
    reqs.push(requirement());
    const t = next();
    if (t.kind === 'end') break;
    if (t.kind === 'op' && t.value === ',') {
      if (peek().kind === 'end') throw new SelectorError(`found 'EOS', expected: identifier after ','`);
      continue;
    }
    throw new SelectorError(`found '${describe(t)}', expected: ',' or 'end of string'`);
  }
  return reqs;

  function requirement(): LabelRequirement {
    let t = next();
    let negated = false;
    if (t.kind === 'op' && t.value === '!') {
      negated = true;
      t = next();
    }
    if (t.kind !== 'id') throw new SelectorError(`found '${describe(t)}', expected: identifier`);
    const key = t.value;
    validateKey(key);
    const after = peek();
    if (negated || after.kind === 'end' || (after.kind === 'op' && after.value === ',')) {
      if (negated && !(after.kind === 'end' || (after.kind === 'op' && after.value === ','))) {
        throw new SelectorError(`found '${describe(after)}', expected: ',' or 'end of string'`);
      }
      return { key, operator: negated ? '!' : 'exists', values: [] };
    }
    const op = next();
    if (op.kind === 'in' || op.kind === 'notin') {
      const values = valueSet(key);
      return { key, operator: op.kind, values };
    }
    if (op.kind !== 'op' || !['=', '==', '!=', '>', '<'].includes(op.value)) {
      throw new SelectorError(`found '${describe(op)}', expected: in, notin, =, ==, !=, gt, lt`);
    }
    const v = peek();
    let value = '';
    if (v.kind === 'id') {
      value = v.value;
      p++;
    } else if (v.kind === 'in' || v.kind === 'notin') {
      value = v.kind;
      p++;
    } else if (!(v.kind === 'end' || (v.kind === 'op' && v.value === ','))) {
      throw new SelectorError(`found '${describe(v)}', expected: identifier`);
    }
    if (op.value === '>' || op.value === '<') {
      if (!/^-?\d+$/.test(value)) {
        throw new SelectorError(`unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer`);
      }
      return { key, operator: op.value === '>' ? 'gt' : 'lt', values: [value] };
    }
    validateValue(key, value);
    return { key, operator: op.value as '=' | '==' | '!=', values: [value] };
  }

  function valueSet(key: string): string[] {
    const open = next();
    if (!(open.kind === 'op' && open.value === '(')) throw new SelectorError(`found '${describe(open)}', expected: '('`);
    const values: string[] = [];
    for (;;) {
      const t = next();
      if (t.kind === 'op' && t.value === ')' && values.length === 0) break;
      let value: string;
      if (t.kind === 'id') value = t.value;
      else if (t.kind === 'in' || t.kind === 'notin') value = t.kind;
      else if (t.kind === 'op' && (t.value === ',' || t.value === ')')) {
        // `(a,,b)` and `(a,)` hold an empty value, as apimachinery's parseValues allows.
        values.push('');
        if (t.value === ')') break;
        continue;
      } else throw new SelectorError(`found '${describe(t)}', expected: ',', ')' or identifier`);
      validateValue(key, value);
      values.push(value);
      const sep = next();
      if (sep.kind === 'op' && sep.value === ')') break;
      if (!(sep.kind === 'op' && sep.value === ',')) throw new SelectorError(`found '${describe(sep)}', expected: ',' or ')'`);
    }
    if (values.length === 0) {
      throw new SelectorError(`unable to parse requirement: for 'in', 'notin' operators, values set can't be empty`);
    }
    return values;
  }
}

/** True when `labels` satisfy every requirement (apimachinery `Requirement.Matches`). */
export function matchLabels(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  for (const r of selector) {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    const v = l[r.key];
    switch (r.operator) {
      case 'exists':
        if (!has) return false;
        break;
      case '!':
        if (has) return false;
        break;
      case '=':
      case '==':
      case 'in':
        if (!has || !r.values.includes(v!)) return false;
        break;
      case '!=':
      case 'notin':
        if (has && r.values.includes(v!)) return false;
        break;
      case 'gt':
      case 'lt': {
        if (!has || !/^-?\d+$/.test(v!)) return false;
        const n = Number(v);
        const bound = Number(r.values[0]);
        if (r.operator === 'gt' ? !(n > bound) : !(n < bound)) return false;
        break;
      }
    }
  }
  return true;
}

/** One term of a field selector: `field=value`, `field==value` or `field!=value`. */
export interface FieldRequirement {
  field: string;
  operator: '=' | '!=';
  value: string;
}

/** A parsed field selector: every term must hold. Empty matches everything. */
export type FieldSelector = readonly FieldRequirement[];

/**
 * Parses a field selector (`metadata.name=web,status.phase!=Running`); `\,` `\=` `\!` and `\\` escape,
 * as in apimachinery's fields.ParseSelector. Throws {@link SelectorError} when it does not parse.
 */
export function parseFieldSelector(selector: string | null | undefined): FieldSelector {
  const s = selector ?? '';
  if (s.trim() === '') return [];
  const out: FieldRequirement[] = [];
  for (const term of splitUnescaped(s, ',')) {
    const m = findOperator(term);
    if (!m) throw new SelectorError(`invalid selector: '${s}'; can't understand '${term}'`);
    const field = term.slice(0, m.at).trim();
    const value = unescape(term.slice(m.at + m.op.length));
    if (!field) throw new SelectorError(`invalid selector: '${s}'; can't understand '${term}'`);
    out.push({ field, operator: m.op === '!=' ? '!=' : '=', value });
  }
  return out;
}

function splitUnescaped(s: string, sep: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === '\\' && i + 1 < s.length) {
      cur += ch + s[++i];
      continue;
    }
    if (ch === sep) {
      parts.push(cur);
      cur = '';
      continue;
    }
    cur += ch;
  }
  parts.push(cur);
  return parts;
}

function findOperator(term: string): { at: number; op: '!=' | '==' | '=' } | undefined {
  for (let i = 0; i < term.length; i++) {
    const ch = term[i]!;
    if (ch === '\\') {
      i++;
      continue;
    }
    // The first operator wins, longest first (fields/selector.go tries "!=", "==", "=").
    if (term.startsWith('!=', i)) return { at: i, op: '!=' };
    if (term.startsWith('==', i)) return { at: i, op: '==' };
    if (ch === '=') return { at: i, op: '=' };
  }
  return undefined;
}

function unescape(v: string): string {
  return v.replace(/\\(.)/g, '$1');
}

/**
 * Checks that every field of the selector is one the resource can be selected by; the API server
 * refuses any other with `field label not supported: <field>` (pkg/apis/core/v1/conversion.go).
 */
export function checkFields(selector: FieldSelector, supported: ReadonlySet<string>): void {
  for (const r of selector) {
    if (!supported.has(r.field)) throw new SelectorError(`field label not supported: ${r.field}`);
  }
}

/** True when the object's selectable fields satisfy every term. */
export function matchFields(selector: FieldSelector, fields: Readonly<Record<string, string>>): boolean {
  for (const r of selector) {
    const v = fields[r.field] ?? '';
    if (r.operator === '=' ? v !== r.value : v === r.value) return false;
  }
  return true;
}
