// Loading, validating and saving one biasing list, with the conflict flow: a save rejected
// with CONFLICT_PREFIX (the file changed on disk) offers "reload from disk" (drop the edits)
// or "overwrite" (take the new version on disk, then save the edits over it).

import { CONFLICT_PREFIX, type ListDoc, type api as realApi } from "../api";
import { errorMessage } from "./errors";
import { TermTable } from "./termTable";

export type ListApi = Pick<typeof realApi, "biasListGet" | "biasListSave" | "biasValidate">;

export type SaveResult = "saved" | "unchanged" | "invalid" | "conflict" | "error";

export function isConflict(message: string): boolean {
  return message.startsWith(CONFLICT_PREFIX);
}

export class ListEditor {
  table: TermTable | null = null;
  /** Set while a save was refused because the file changed on disk: what the back end said. */
  conflict: string | null = null;
  /** The last failure (loading, validating or saving), for an inline message. */
  error: string | null = null;
  saving = false;
  /** True after a save until the next edit. */
  justSaved = false;
  private validateSeq = 0;
  private listeners: Array<() => void> = [];

  constructor(private readonly api: ListApi) {}

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }

  async open(name: string): Promise<void> {
    this.error = null;
    this.conflict = null;
    this.justSaved = false;
    try {
      const doc = await this.api.biasListGet(name);
      this.table = new TermTable(doc);
    } catch (e) {
      this.table = null;
      this.error = errorMessage(e);
    }
    this.changed();
  }

  /** Shows a list already at hand (just created or imported). */
  showDoc(doc: ListDoc): void {
    this.table = new TermTable(doc);
    this.error = null;
    this.conflict = null;
    this.justSaved = false;
    this.validateSeq += 1;
    this.changed();
  }

  close(): void {
    this.table = null;
    this.conflict = null;
    this.error = null;
    this.justSaved = false;
    this.validateSeq += 1;
    this.changed();
  }

  /** Call after every edit of the table. */
  edited(): void {
    this.justSaved = false;
    this.changed();
  }

  /** Asks the back end what is wrong with the rows; true when nothing is. Late answers are dropped. */
  async validate(): Promise<boolean> {
    const table = this.table;
    if (!table) return false;
    const seq = ++this.validateSeq;
    const snapshot = table.snapshot();
    try {
      const problems = await this.api.biasValidate(table.name, snapshot.terms);
      if (seq !== this.validateSeq || table !== this.table) return false;
      table.setProblems(problems, snapshot);
      this.error = null;
    } catch (e) {
      if (seq !== this.validateSeq || table !== this.table) return false;
      this.error = errorMessage(e);
      this.changed();
      return false;
    }
    this.changed();
    return !table.hasProblems();
  }

  async save(): Promise<SaveResult> {
    const table = this.table;
    if (!table || this.saving) return "unchanged";
    if (!table.isDirty()) return "unchanged";
    this.saving = true;
    this.changed();
    try {
      if (!(await this.validate())) return this.error ? "error" : "invalid";
      const snapshot = table.snapshot();
      try {
        const outcome = await this.api.biasListSave(table.name, snapshot.terms, table.version);
        table.markSaved(outcome.version, snapshot);
        this.conflict = null;
        this.error = null;
        this.justSaved = true;
        return "saved";
      } catch (e) {
        const message = errorMessage(e);
        if (isConflict(message)) {
          this.conflict = message.slice(CONFLICT_PREFIX.length).trim() || "The list changed on disk since it was opened.";
          return "conflict";
        }
        this.error = message;
        return "error";
      }
    } finally {
      this.saving = false;
      this.changed();
    }
  }

  /** Conflict: forget the edits and show the list as it is on disk now. */
  async reloadFromDisk(): Promise<void> {
    const table = this.table;
    if (!table) return;
    try {
      const doc = await this.api.biasListGet(table.name);
      table.load(doc);
      this.conflict = null;
      this.error = null;
      this.justSaved = false;
    } catch (e) {
      this.error = errorMessage(e);
    }
    this.changed();
  }

  /** Conflict: keep the edits, saving them over the version now on disk. */
  async overwrite(): Promise<SaveResult> {
    const table = this.table;
    if (!table) return "unchanged";
    try {
      const doc = await this.api.biasListGet(table.name);
      table.version = doc.version;
    } catch (e) {
      this.error = errorMessage(e);
      this.changed();
      return "error";
    }
    this.conflict = null;
    return this.save();
  }
}
