// The request target, parsed once for every route: split into path segments, each percent-decoded
// exactly once, and refused when it tries to step outside the tree of routes. No route builds a file
// path from the URL today (log paths come from the runtime), and this keeps it that way should one
// ever do: what reaches a route is a list of plain names, none of them `.`, `..` or holding a slash.

/** A request target that passed {@link parseRequestTarget}. */
export interface RequestTarget {
  /** The path's segments, decoded; empty segments (`//`, a trailing `/`) are dropped. */
  segments: string[];
  /** `/` plus the decoded segments joined by `/`: for matching fixed routes like `/healthz`. */
  path: string;
  /** The segments re-encoded, and the query as sent (read through `url.searchParams`). */
  url: URL;
}

/** Why a request target was refused (always a 400). */
export interface TargetRefusal {
  refused: string;
}

// Percent-encoded slash, backslash or NUL: a name never holds one, a traversal attempt always does.
const ENCODED_SEPARATOR = /%(?:2f|5c|00)/i;
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Parses `req.url` (origin form only: `/path?query`). Refused: anything not starting with `/`
 * (absolute form, `*`), a fragment, a backslash or control character, a percent-encoded `/`, `\` or
 * NUL, malformed percent-encoding, and `.` or `..` segments however encoded. Repeated slashes are
 * collapsed: they cannot escape anything once every segment is checked, and clients joining a base
 * URL ending in `/` send them.
 */
export function parseRequestTarget(raw: string): RequestTarget | TargetRefusal {
  if (!raw.startsWith('/')) return { refused: 'the request target must be a path starting with "/"' };
  const q = raw.indexOf('?');
  const rawPath = q < 0 ? raw : raw.slice(0, q);
  const rawQuery = q < 0 ? '' : raw.slice(q);
  if (rawPath.includes('#') || rawQuery.includes('#')) return { refused: 'the request target must not hold a fragment' };
  if (rawPath.includes('\\') || CONTROL.test(rawPath)) return { refused: 'the path holds a backslash or a control character' };
  if (ENCODED_SEPARATOR.test(rawPath)) return { refused: 'the path holds an encoded "/", "\\" or NUL' };
  const segments: string[] = [];
  for (const s of rawPath.split('/')) {
    if (s === '') continue;
    let d: string;
    try {
      d = decodeURIComponent(s);
    } catch {
      return { refused: 'the path holds malformed percent-encoding' };
    }
    if (d === '.' || d === '..') return { refused: 'the path holds a "." or ".." segment' };
    // Decoding once more could not add a separator (checked above), but this is the promise routes rely on.
    if (d.includes('/') || d.includes('\\') || CONTROL.test(d)) return { refused: 'the path holds an encoded separator or control character' };
    segments.push(d);
  }
  const encoded = `/${segments.map(encodeURIComponent).join('/')}`;
  let url: URL;
  try {
    url = new URL(`${encoded}${rawQuery}`, 'http://nodelet');
  } catch {
    return { refused: 'the request target cannot be parsed' };
  }
  return { segments, path: `/${segments.join('/')}`, url };
}

/** True when `raw` (a request target, parsed or not) is under a Kubernetes API prefix: errors there are Status objects. */
export function isKubeApiTarget(raw: string): boolean {
  return /^\/+(?:api|apis|version|openapi)(?:[/?]|$)/.test(raw);
}

/** True when `raw` asks for `/healthz` or one of its sub-checks. */
export function isHealthzTarget(raw: string): boolean {
  const t = parseRequestTarget(raw);
  return 'segments' in t && t.segments[0] === 'healthz';
}
