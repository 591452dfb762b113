// labelSelector and fieldSelector of a list or watch. The parsing and matching are nodelet's own
// (src/server/kubeapi/selectors.ts, after apimachinery's labels/selector.go and fields/selector.go);
// the selectable fields per resource are the double's (resources.ts). A field the resource cannot be
// selected by is a 400 `field label not supported: …`, as on the real server.

import { checkFields, matchFields, matchLabels, parseFieldSelector, parseLabelSelector, SelectorError } from '../../src/server/kubeapi/selectors.js';
import type { Obj } from './defaults.js';
import { badRequest } from './errors.js';
import type { ResourceDef } from './resources.js';

/** Compiles the selectors of a request into a predicate; throws a 400 Status for a bad one. */
export function compileSelectors(def: ResourceDef, q: URLSearchParams): (o: Obj) => boolean {
  try {
    const labels = parseLabelSelector(q.get('labelSelector'));
    const fields = parseFieldSelector(q.get('fieldSelector'));
    // The supported set is the keys a sample object yields.
    checkFields(fields, new Set(Object.keys(def.fields({ metadata: {} }))));
    return (o) => matchLabels(labels, o.metadata.labels) && matchFields(fields, def.fields(o));
  } catch (err) {
    if (err instanceof SelectorError) throw badRequest(err.message);
    throw err;
  }
}
