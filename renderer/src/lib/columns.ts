/**
 * The timeline's columns: which exist, their default widths, which can be hidden, resized or
 * sorted, and the CSS grid template the header and every row share. The user's widths and
 * hidden columns are remembered in localStorage under STORAGE_KEY; anything unreadable there
 * falls back to the defaults (it is the user's own storage, but a stale or hand-edited value
 * must not break the view). Pure functions and plain data; the Timeline component owns the
 * reactive copy.
 */

export type ColumnId = 'no' | 'time' | 'delta' | 'conn' | 'dir' | 'opcode' | 'length' | 'flags' | 'find' | 'meaning' | 'preview';
export type SortKey = 'time' | 'length' | 'conn';

export interface ColumnDef {
  id: ColumnId;
  /** header text (empty for the narrow glyph columns) */
  label: string;
  /** name in the Columns menu */
  title: string;
  /** px; the preview column takes the free width instead */
  width: number;
  min: number;
  sort?: SortKey;
  numeric?: boolean;
}

// Widths fit their longest value in the 12 px fonts: HH:MM:SS.ffffff (15 monospace
// characters) in `time` when absolute (TIME_ABS_WIDTH, taken unless the user sized the
// column), "continuation" and "reserved-b" in `opcode`, "Z MASK" or "RSV1 MASK" in `flags`; the
// preview keeps what is left of a 1440 px window beside the side panes (about 160 px).
export const COLUMNS: readonly ColumnDef[] = [
  { id: 'no', label: 'No.', title: 'Number', width: 48, min: 28, numeric: true },
  { id: 'time', label: 'Time', title: 'Time', width: 80, min: 48, sort: 'time' },
  { id: 'delta', label: 'Δt', title: 'Delta time (since the previous row shown)', width: 66, min: 36, numeric: true },
  { id: 'conn', label: 'Conn', title: 'Connection', width: 36, min: 24, sort: 'conn', numeric: true },
  { id: 'dir', label: '', title: 'Direction', width: 14, min: 12 },
  { id: 'opcode', label: 'Opcode', title: 'Opcode', width: 82, min: 40 },
  { id: 'length', label: 'Length', title: 'Length', width: 58, min: 36, sort: 'length', numeric: true },
  { id: 'flags', label: 'Flags', title: 'Flags (FIN, RSV, MASK, compression)', width: 84, min: 30 },
  { id: 'find', label: '', title: 'Findings', width: 16, min: 14 },
  // only while a connection has a subprotocol decoder (engine/app/): `decoded` below
  { id: 'meaning', label: 'Meaning', title: 'Meaning (decoded subprotocol)', width: 260, min: 60 },
  { id: 'preview', label: 'Preview', title: 'Preview', width: 0, min: 60 },
];
/** the time column's default width for absolute times (HH:MM:SS.ffffff) */
export const TIME_ABS_WIDTH = 112;

export const STORAGE_KEY = 'wsscope.timelineColumns';
const MAX_WIDTH = 600;

export interface ColumnLayout {
  widths: Partial<Record<ColumnId, number>>;
  hidden: ColumnId[];
}

const IDS = new Set<string>(COLUMNS.map((c) => c.id));

export function columnDef(id: ColumnId): ColumnDef {
  return COLUMNS.find((c) => c.id === id) as ColumnDef;
}

/** Clamps a width to the column's bounds. */
export function clampWidth(id: ColumnId, w: number): number {
  const d = columnDef(id);
  return Math.round(Math.min(MAX_WIDTH, Math.max(d.min, Number.isFinite(w) ? w : d.width)));
}

/** Reads the remembered layout; defaults for whatever is missing or malformed. */
export function loadLayout(storage: Pick<Storage, 'getItem'> | undefined = globalThis.localStorage): ColumnLayout {
  const out: ColumnLayout = { widths: {}, hidden: [] };
  let raw: unknown;
  try {
    raw = JSON.parse(storage?.getItem(STORAGE_KEY) ?? 'null');
  } catch {
    return out;
  }
  if (!raw || typeof raw !== 'object') return out;
  const r = raw as { widths?: unknown; hidden?: unknown };
  if (r.widths && typeof r.widths === 'object') {
    for (const [k, v] of Object.entries(r.widths as Record<string, unknown>)) {
      if (IDS.has(k) && k !== 'preview' && typeof v === 'number') out.widths[k as ColumnId] = clampWidth(k as ColumnId, v);
    }
  }
  // the preview column stays: it is what takes the free width
  if (Array.isArray(r.hidden)) out.hidden = r.hidden.filter((k): k is ColumnId => typeof k === 'string' && IDS.has(k) && k !== 'preview');
  return out;
}

export function saveLayout(l: ColumnLayout, storage: Pick<Storage, 'setItem'> | undefined = globalThis.localStorage): void {
  storage?.setItem(STORAGE_KEY, JSON.stringify(l));
}

/** The visible columns, in order; the meaning column only when something is `decoded`. */
export function visibleColumns(l: ColumnLayout, decoded = false): ColumnDef[] {
  return COLUMNS.filter((c) => !l.hidden.includes(c.id) && (decoded || c.id !== 'meaning'));
}

/**
 * `grid-template-columns` for the visible columns; the preview takes what is left. `absTime`:
 * the time column shows HH:MM:SS.ffffff (wider by default); `decoded`: with the meaning column.
 */
export function gridTemplate(l: ColumnLayout, absTime = false, decoded = false): string {
  return visibleColumns(l, decoded)
    .map((c) => {
      if (c.id === 'preview') return `minmax(${c.min}px, 1fr)`;
      const dflt = c.id === 'time' && absTime ? TIME_ABS_WIDTH : c.width;
      return `${l.widths[c.id] ?? dflt}px`;
    })
    .join(' ');
}
