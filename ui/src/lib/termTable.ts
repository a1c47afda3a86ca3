// The term table editor's model: the rows of one biasing list as edited, what changed since
// the last load or save, the search filter, and validation problems mapped onto fields.

import type { ListDoc, RowProblem, TermRow } from "../api";

export type TermField = "term" | "soundsLike" | "note";

/** One row as edited: sounds-like spellings stay the cell's text until saved. */
export interface EditRow {
  id: number;
  term: string;
  soundsLike: string;
  note: string;
}

export type FieldErrors = Partial<Record<TermField, string>>;

/** "cube nettys, cube netties" -> ["cube nettys", "cube netties"]: trimmed, no empties, no repeats. */
export function parseSoundsLike(cell: string): string[] {
  const out: string[] = [];
  for (const piece of cell.split(/[,;\n]/)) {
    const s = piece.trim().replace(/\s+/g, " ");
    if (s && !out.includes(s)) out.push(s);
  }
  return out;
}

export function formatSoundsLike(spellings: readonly string[]): string {
  return spellings.join(", ");
}

function isBlank(row: EditRow): boolean {
  return !row.term.trim() && !row.soundsLike.trim() && !row.note.trim();
}

function toTerm(row: EditRow): TermRow {
  return { term: row.term.trim(), soundsLike: parseSoundsLike(row.soundsLike), note: row.note.trim() };
}

/** What was sent for validation or saving, and which row each term came from. */
export interface Snapshot {
  terms: TermRow[];
  rowIds: number[];
}

export class TermTable {
  name: string;
  path: string;
  enabled: boolean;
  version: string;
  private rows: EditRow[] = [];
  private nextId = 1;
  private baseline = "[]";
  private fieldErrors = new Map<number, FieldErrors>();
  private listErrors: string[] = [];

  constructor(doc: ListDoc) {
    this.name = doc.name;
    this.path = doc.path;
    this.enabled = doc.enabled;
    this.version = doc.version;
    this.load(doc);
  }

  /** Replaces everything with a list as read from disk. */
  load(doc: ListDoc): void {
    this.name = doc.name;
    this.path = doc.path;
    this.enabled = doc.enabled;
    this.version = doc.version;
    this.rows = doc.terms.map((t) => ({
      id: this.nextId++,
      term: t.term,
      soundsLike: formatSoundsLike(t.soundsLike),
      note: t.note,
    }));
    this.baseline = JSON.stringify(this.snapshot().terms);
    this.clearProblems();
  }

  allRows(): readonly EditRow[] {
    return this.rows;
  }

  row(id: number): EditRow | undefined {
    return this.rows.find((r) => r.id === id);
  }

  /** Adds an empty row at the end; returns it. */
  add(initial: Partial<Omit<EditRow, "id">> = {}): EditRow {
    const row: EditRow = { id: this.nextId++, term: "", soundsLike: "", note: "", ...initial };
    this.rows.push(row);
    return row;
  }

  edit(id: number, field: TermField, value: string): void {
    const row = this.row(id);
    if (!row) throw new Error(`no row ${id}`);
    row[field] = value;
    // The old message no longer describes this field; the next validation says what holds now.
    const errs = this.fieldErrors.get(id);
    if (errs && errs[field]) {
      delete errs[field];
      if (Object.keys(errs).length === 0) this.fieldErrors.delete(id);
    }
  }

  remove(id: number): boolean {
    const before = this.rows.length;
    this.rows = this.rows.filter((r) => r.id !== id);
    this.fieldErrors.delete(id);
    return this.rows.length < before;
  }

  /** The terms to save, in order; wholly empty rows are left out. */
  snapshot(): Snapshot {
    const terms: TermRow[] = [];
    const rowIds: number[] = [];
    for (const row of this.rows) {
      if (isBlank(row)) continue;
      terms.push(toTerm(row));
      rowIds.push(row.id);
    }
    return { terms, rowIds };
  }

  terms(): TermRow[] {
    return this.snapshot().terms;
  }

  /** Whether the terms differ from what was last loaded or saved (formatting aside). */
  isDirty(): boolean {
    return JSON.stringify(this.snapshot().terms) !== this.baseline;
  }

  /** After a save: this is the state on disk now. */
  markSaved(version: string, saved: Snapshot = this.snapshot()): void {
    this.version = version;
    this.baseline = JSON.stringify(saved.terms);
  }

  /** Rows matching a search (term, spellings or note, case-insensitive); empty rows always show. */
  filter(query: string): EditRow[] {
    const q = query.trim().toLowerCase();
    if (!q) return [...this.rows];
    return this.rows.filter(
      (r) =>
        isBlank(r) ||
        r.term.toLowerCase().includes(q) ||
        r.soundsLike.toLowerCase().includes(q) ||
        r.note.toLowerCase().includes(q),
    );
  }

  /** Maps problems from bias_validate (rows index `snapshot.terms`) onto fields of rows. */
  setProblems(problems: readonly RowProblem[], snapshot: Snapshot): void {
    this.clearProblems();
    for (const p of problems) {
      const rowId = p.row === null ? undefined : snapshot.rowIds[p.row];
      if (rowId === undefined || p.field === "name" || !this.row(rowId)) {
        const where = p.row === null || rowId === undefined ? "" : `Row ${p.row + 1}: `;
        this.listErrors.push(`${where}${p.message}`);
        continue;
      }
      const errs = this.fieldErrors.get(rowId) ?? {};
      const field = p.field as TermField;
      errs[field] = errs[field] ? `${errs[field]}; ${p.message}` : p.message;
      this.fieldErrors.set(rowId, errs);
    }
  }

  clearProblems(): void {
    this.fieldErrors.clear();
    this.listErrors = [];
  }

  errorsFor(id: number): FieldErrors {
    return this.fieldErrors.get(id) ?? {};
  }

  /** Problems about the whole list (or rows no longer shown). */
  listProblems(): readonly string[] {
    return this.listErrors;
  }

  hasProblems(): boolean {
    return this.fieldErrors.size > 0 || this.listErrors.length > 0;
  }

  canSave(): boolean {
    return this.isDirty() && !this.hasProblems();
  }
}
