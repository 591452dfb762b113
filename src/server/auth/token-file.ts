// Static bearer tokens in kube-apiserver's --token-auth-file format
// (staging/src/k8s.io/apiserver/pkg/authentication/token/tokenfile/tokenfile.go): one CSV record per
// line, `token,user,uid[,"group1,group2"]`. Read once at start, as the API server reads it.

import { readFile } from 'node:fs/promises';
import { NodeletError } from '../../errors.js';
import type { UserInfo } from './user.js';

/** The tokens of a file, and what was skipped in it. */
export interface TokenFile {
  /** Token → the user it authenticates. */
  tokens: ReadonlyMap<string, UserInfo>;
  /** One line each: empty or duplicate tokens (a later duplicate wins, as in the API server). */
  warnings: string[];
}

/** Reads and parses a token file; a file that cannot be read or parsed is an InvalidConfig error naming it. */
export async function readTokenFile(file: string): Promise<TokenFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new NodeletError('InvalidConfig', `--token-auth-file=${file}: cannot read: ${e.code ?? e.message}`, { cause: err });
  }
  try {
    return parseTokenFile(text, file);
  } catch (err) {
    throw new NodeletError('InvalidConfig', `--token-auth-file=${(err as Error).message}`, { cause: err });
  }
}

/**
 * Parses token file text. As the API server: at least three columns (token, user name, uid), the
 * fourth a comma-separated list of groups, an empty token skipped with a warning, a repeated token
 * replacing the earlier one with a warning. Ours: lines starting with `#` are comments (Go's CSV
 * reader would read them as a record, and the API server refuses one with fewer than three columns).
 * Throws with `file:line: reason`.
 */
export function parseTokenFile(text: string, file: string): TokenFile {
  const tokens = new Map<string, UserInfo>();
  const warnings: string[] = [];
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  let record = 0;
  lines.forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '' || line.startsWith('#')) return;
    const fields = splitCSV(line, `${file}:${i + 1}`);
    if (fields.length < 3) {
      throw new Error(`${file}:${i + 1}: a token file line must have at least 3 columns (token, user name, user uid), found ${fields.length}`);
    }
    record++;
    const [token, name, uid, groups] = fields as [string, string, string, string | undefined];
    if (token === '') {
      warnings.push(`${file}:${i + 1}: empty token in record ${record}: skipped`);
      return;
    }
    if (tokens.has(token)) warnings.push(`${file}:${i + 1}: duplicate token in record ${record}: it replaces the earlier one`);
    tokens.set(token, { name, uid, groups: groups === undefined ? [] : groups.split(',') });
  });
  return { tokens, warnings };
}

// One CSV record of one line (RFC 4180 as Go's encoding/csv reads it without LazyQuotes): fields
// split on commas, a field in double quotes may hold commas and "" for a quote; a quote elsewhere is
// an error. A quoted field spanning lines is not supported here.
function splitCSV(line: string, where: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= line.length) throw new Error(`${where}: a quoted field is not closed`);
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            value += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += line[i++];
      }
      if (i < line.length && line[i] !== ',') throw new Error(`${where}: extraneous characters after a quoted field`);
      fields.push(value);
    } else {
      const end = line.indexOf(',', i);
      const value = end < 0 ? line.slice(i) : line.slice(i, end);
      if (value.includes('"')) throw new Error(`${where}: a bare " in a field that is not quoted`);
      fields.push(value);
      i = end < 0 ? line.length : end;
    }
    if (i >= line.length) return fields;
    i++; // the comma
  }
}
