// What every API read shares: the parsed query (selectors, watch, resourceVersion, Table options),
// parsed once so that a bad selector is a 400 before any work is done.

import type { IncomingMessage } from 'node:http';
import { badRequest } from './status-errors.js';
import { checkFields, type FieldSelector, type LabelSelector, parseFieldSelector, parseLabelSelector, SelectorError } from './selectors.js';
import { type IncludeObject, negotiate, type Negotiated, parseIncludeObject } from './table.js';

/** The query of a list, get or watch request. */
export interface ReadOptions {
  labels: LabelSelector;
  fields: FieldSelector;
  watch: boolean;
  /** `resourceVersion`, parsed; undefined for "" and "0" (start with the current state). */
  resourceVersion?: number;
  timeoutSeconds?: number;
  neg: Negotiated;
  includeObject: IncludeObject;
}

/** Parses the query of a read; selectors on fields outside `supportedFields` are refused with a 400. */
export function readOptions(req: IncomingMessage, url: URL, supportedFields: ReadonlySet<string>, watchPath: boolean): ReadOptions {
  const q = url.searchParams;
  let labels: LabelSelector;
  let fields: FieldSelector;
  try {
    labels = parseLabelSelector(q.get('labelSelector'));
    fields = parseFieldSelector(q.get('fieldSelector'));
    checkFields(fields, supportedFields);
  } catch (err) {
    if (err instanceof SelectorError) throw badRequest(err.message);
    throw err;
  }
  const rv = q.get('resourceVersion');
  let resourceVersion: number | undefined;
  if (rv && rv !== '0') {
    if (!/^\d+$/.test(rv)) throw badRequest(`invalid resource version: ${rv}`);
    resourceVersion = Number(rv);
  }
  const timeout = q.get('timeoutSeconds');
  const w = q.get('watch');
  return {
    labels,
    fields,
    watch: watchPath || w === 'true' || w === '1',
    resourceVersion,
    timeoutSeconds: timeout && /^\d+$/.test(timeout) ? Number(timeout) : undefined,
    neg: negotiate(req.headers.accept),
    includeObject: parseIncludeObject(q.get('includeObject')),
  };
}
