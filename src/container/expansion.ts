/**
 * Kubernetes variable expansion for env values, command and args: `$(VAR)` becomes VAR's value when
 * VAR is defined, `$$` becomes `$` (so `$$(VAR)` is the literal `$(VAR)`), and anything else is left
 * as written. Mirrors third_party/forked/golang/expansion/expand.go.
 */
export function expand(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  let i = 0;
  while (i < input.length) {
    const ch = input[i]!;
    if (ch !== '$' || i + 1 >= input.length) {
      out += ch;
      i++;
      continue;
    }
    const next = input[i + 1]!;
    if (next === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (next === '(') {
      const close = input.indexOf(')', i + 2);
      if (close === -1) {
        // Unterminated reference: kept verbatim, as the upstream expander does.
        out += input.slice(i);
        break;
      }
      const name = input.slice(i + 2, close);
      const value = name === '' ? undefined : lookup(name);
      out += value ?? `$(${name})`;
      i = close + 1;
      continue;
    }
    out += ch;
    i++;
  }
  return out;
}
