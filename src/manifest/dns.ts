// Name and value syntax checks, mirroring k8s.io/apimachinery/pkg/util/validation/validation.go. Each
// check returns the list of problems (empty = valid) so that callers can report every one of them,
// as the apimachinery functions do.

const DNS1123_LABEL_MAX = 63;
const DNS1123_SUBDOMAIN_MAX = 253;
const QUALIFIED_NAME_MAX = 63;
const LABEL_VALUE_MAX = 63;
const IANA_SVC_NAME_MAX = 15;

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const qualifiedNamePart = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const ianaSvcName = /^[-a-z0-9]+$/;
const atLeastOneLetter = /[a-z]/;

/** The apimachinery message for a string that is not a DNS-1123 label. */
export const DNS1123_LABEL_ERROR =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name', or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

/** The apimachinery message for a string that is not a DNS-1123 subdomain. */
export const DNS1123_SUBDOMAIN_ERROR =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

/** Problems with `value` as a DNS-1123 label (≤ 63 chars, `[a-z0-9-]`, alphanumeric at both ends). */
export function checkDNS1123Label(value: string): string[] {
  const errs: string[] = [];
  if (value.length > DNS1123_LABEL_MAX) errs.push(`must be no more than ${DNS1123_LABEL_MAX} characters`);
  if (!dns1123Label.test(value)) errs.push(DNS1123_LABEL_ERROR);
  return errs;
}

/** Problems with `value` as a DNS-1123 subdomain (≤ 253 chars, dot-separated labels). */
export function checkDNS1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (value.length > DNS1123_SUBDOMAIN_MAX) errs.push(`must be no more than ${DNS1123_SUBDOMAIN_MAX} characters`);
  if (!dns1123Subdomain.test(value)) errs.push(DNS1123_SUBDOMAIN_ERROR);
  return errs;
}

/**
 * Problems with `value` as a qualified name, the syntax of label and annotation keys: an optional
 * DNS subdomain prefix and `/`, then a name of ≤ 63 alphanumerics, `-`, `_` or `.`.
 */
export function checkQualifiedName(value: string): string[] {
  const errs: string[] = [];
  const parts = value.split('/');
  let name: string;
  if (parts.length === 1) {
    name = parts[0] ?? '';
  } else if (parts.length === 2) {
    const prefix = parts[0] ?? '';
    name = parts[1] ?? '';
    if (prefix.length === 0) errs.push('prefix part must be non-empty');
    else for (const e of checkDNS1123Subdomain(prefix)) errs.push(`prefix part ${e}`);
  } else {
    return [
      "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName', or 'my.name', or '123-abc') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ];
  }
  if (name.length === 0) errs.push('name part must be non-empty');
  else if (name.length > QUALIFIED_NAME_MAX) errs.push(`name part must be no more than ${QUALIFIED_NAME_MAX} characters`);
  if (name.length > 0 && !qualifiedNamePart.test(name)) {
    errs.push(
      "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName', or 'my.name', or '123-abc')",
    );
  }
  return errs;
}

/** Problems with `value` as a label value: empty, or ≤ 63 alphanumerics, `-`, `_`, `.`. */
export function checkLabelValue(value: string): string[] {
  const errs: string[] = [];
  if (value.length > LABEL_VALUE_MAX) errs.push(`must be no more than ${LABEL_VALUE_MAX} characters`);
  if (!labelValue.test(value)) {
    errs.push(
      "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue', or 'my_value', or '12345')",
    );
  }
  return errs;
}

/** Problems with `value` as an IANA_SVC_NAME, the syntax of port names (RFC 6335). */
export function checkPortName(value: string): string[] {
  const errs: string[] = [];
  if (value.length > IANA_SVC_NAME_MAX) errs.push(`must be no more than ${IANA_SVC_NAME_MAX} characters`);
  if (!ianaSvcName.test(value)) errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (value.includes('--')) errs.push('must not contain consecutive hyphens');
  if (value.length > 0 && !atLeastOneLetter.test(value)) errs.push('must contain at least one letter (a-z)');
  if (value.startsWith('-') || value.endsWith('-')) errs.push('must not begin or end with a hyphen');
  return errs;
}

/** Problems with a port number: it must be 1–65535. */
export function checkPortNumber(value: number): string[] {
  return Number.isInteger(value) && value >= 1 && value <= 65535 ? [] : ['must be between 1 and 65535, inclusive'];
}

/**
 * Problems with `value` as an environment variable name. Kubernetes relaxed this from C_IDENTIFIER to
 * "any printable ASCII except '='" (RelaxedEnvironmentVariableValidation, GA in 1.34): we follow the
 * relaxed rule, since a process runtime passes names through to execve unchanged.
 */
export function checkEnvVarName(value: string): string[] {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x3d) {
      return ["a valid environment variable name must consist only of printable ASCII characters other than '='"];
    }
  }
  return [];
}

/** Whether `value` is an IPv4 or IPv6 address in textual form (no zone, no prefix length). */
export function isIP(value: string): boolean {
  return isIPv4(value) || isIPv6(value);
}

function isIPv4(value: string): boolean {
  const parts = value.split('.');
  // Kubernetes rejects leading zeros (ambiguous octal in older parsers); so do we.
  return parts.length === 4 && parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255);
}

function isIPv6(value: string): boolean {
  if (!/^[0-9A-Fa-f:.]+$/.test(value) || value.length > 45) return false;
  const dbl = value.split('::');
  if (dbl.length > 2) return false;
  const groups = (s: string): string[] | undefined => (s === '' ? [] : s.split(':'));
  const head = groups(dbl[0] ?? '');
  const tail = dbl.length === 2 ? groups(dbl[1] ?? '') : [];
  if (!head || !tail) return false;
  const all = [...head, ...tail];
  let count = 0;
  for (let i = 0; i < all.length; i++) {
    const g = all[i] ?? '';
    if (i === all.length - 1 && g.includes('.')) {
      if (!isIPv4(g)) return false;
      count += 2;
    } else if (/^[0-9A-Fa-f]{1,4}$/.test(g)) {
      count += 1;
    } else {
      return false;
    }
  }
  return dbl.length === 2 ? count < 8 : count === 8;
}
