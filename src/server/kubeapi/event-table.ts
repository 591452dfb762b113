// The event table, as kube-apiserver prints it: printEvent and eventColumnDefinitions in
// pkg/printers/internalversion/printers.go (the wide cell order, which the server always sends).

import type { Event } from 'kubernetes-types/core/v1.js';
import { timestampSince } from './human-duration.js';
import { column, type TableColumn, type TableRow } from './table.js';

/** The event table's columns: LAST SEEN TYPE REASON OBJECT MESSAGE, and more with -o wide. */
export const eventColumns: readonly TableColumn[] = [
  column('Last Seen', 'The time at which the most recent occurrence of this event was recorded.'),
  column('Type', 'Type of this event (Normal, Warning), new types could be added in the future'),
  column('Reason', 'This should be a short, machine understandable string that gives the reason for the transition into the object\'s current status.'),
  column('Object', 'The object that this event is about.'),
  column('Subobject', 'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement.', { priority: 1 }),
  column('Source', 'The component reporting this event. Should be a short machine understandable string.', { priority: 1 }),
  column('Message', 'A human-readable description of the status of this operation.'),
  column('First Seen', 'The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)', { priority: 1 }),
  column('Count', 'The number of times this event has occurred.', { priority: 1 }),
  column('Name', 'Name must be unique within a namespace.', { priority: 1, format: 'name' }),
];

/** One row of the event table: `5s (x3 over 1m)` for repeats, `pod/web` for the object. */
export function eventRow(e: Event, now: number): TableRow {
  const first = timestampSince(e.firstTimestamp, now);
  let last = e.lastTimestamp ? timestampSince(e.lastTimestamp, now) : first;
  const count = e.count ?? 0;
  if (count > 1) last = `${last} (x${count} over ${first})`;
  const kind = (e.involvedObject.kind ?? '').toLowerCase();
  const target = e.involvedObject.name ? `${kind}/${e.involvedObject.name}` : kind;
  const source = e.source?.component
    ? e.source.host
      ? `${e.source.component}, ${e.source.host}`
      : e.source.component
    : (e.reportingComponent ?? '');
  return {
    cells: [last, e.type ?? '', e.reason ?? '', target, e.involvedObject.fieldPath ?? '', source, (e.message ?? '').trim(), first, count, e.metadata.name ?? ''],
  };
}
