// Server-side printing: the meta.k8s.io Table kubectl asks for with
// `Accept: application/json;as=Table;v=v1;g=meta.k8s.io` (staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/types.go
// Table, and the negotiation in staging/src/k8s.io/apiserver/pkg/endpoints/handlers/response.go).

/** A column of a Table (metav1.TableColumnDefinition). Priority 0 shows by default, 1 only with `-o wide`. */
export interface TableColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format: string;
  description: string;
  priority: number;
}

/** One row of a Table (metav1.TableRow): the cells, and the object (or its metadata) it was printed from. */
export interface TableRow {
  cells: (string | number)[];
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
  object?: unknown;
}

/** A meta.k8s.io Table (metav1.Table). */
export interface Table {
  kind: 'Table';
  apiVersion: string;
  metadata: { resourceVersion?: string };
  columnDefinitions: TableColumn[];
  rows: TableRow[];
}

/** What a client asked for in `Accept`: plain JSON, or a Table of a given meta.k8s.io version. */
export interface Negotiated {
  table?: { apiVersion: 'meta.k8s.io/v1' | 'meta.k8s.io/v1beta1' };
}

/**
 * Reads the Accept header as the API server does: the first media range that is a Table we can make
 * wins; anything else (including `*` and plain `application/json`) is plain JSON.
 */
export function negotiate(accept: string | undefined): Negotiated {
  for (const range of (accept ?? '').split(',')) {
    const [type, ...params] = range.split(';').map((s) => s.trim());
    const p = Object.fromEntries(params.map((x) => x.split('=').map((s) => s.trim()) as [string, string]));
    if (type === 'application/json' && p['as'] === 'Table' && p['g'] === 'meta.k8s.io' && (p['v'] === 'v1' || p['v'] === 'v1beta1')) {
      return { table: { apiVersion: `meta.k8s.io/${p['v']}` } };
    }
    if (type === 'application/json' || type === '*/*' || type === 'application/*') return {};
  }
  return {};
}

/** `?includeObject=` of a Table request: None, Metadata (the default) or Object. */
export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** Parses `includeObject`, defaulting to Metadata as the API server does. */
export function parseIncludeObject(v: string | null): IncludeObject {
  return v === 'None' || v === 'Object' ? v : 'Metadata';
}

/** What a row carries of its object: nothing, a PartialObjectMetadata, or the object itself. */
export function rowObject(obj: { metadata?: object }, include: IncludeObject, tableApiVersion: string): unknown {
  if (include === 'None') return undefined;
  if (include === 'Object') return obj;
  return { kind: 'PartialObjectMetadata', apiVersion: tableApiVersion, metadata: obj.metadata ?? {} };
}

/** A column as the printers declare them (pkg/printers/internalversion/printers.go). */
export function column(name: string, description: string, opts: { priority?: number; format?: string } = {}): TableColumn {
  return { name, type: 'string', format: opts.format ?? '', description, priority: opts.priority ?? 0 };
}

/**
 * Builds the Table of `items` for a request that negotiated one: a row each, with the object as the
 * client asked (`includeObject`). `headers` is false for the watch events after the first, which carry
 * no column definitions (as the API server sends them).
 */
export function buildTable<T extends { metadata?: object }>(
  items: T[],
  spec: { columns: readonly TableColumn[]; row: (item: T, now: number) => TableRow },
  o: { neg: Negotiated; includeObject: IncludeObject },
  now: number,
  resourceVersion: string,
  headers: boolean,
): Table {
  const apiVersion = o.neg.table!.apiVersion;
  return {
    kind: 'Table',
    apiVersion,
    metadata: { resourceVersion },
    columnDefinitions: headers ? [...spec.columns] : [],
    rows: items.map((item) => {
      const row = spec.row(item, now);
      const object = rowObject(item, o.includeObject, apiVersion);
      return object === undefined ? row : { ...row, object };
    }),
  };
}
