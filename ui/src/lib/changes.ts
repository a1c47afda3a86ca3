// The change/undo model behind "show changes": a polished text is the raw text with a list of
// word-level changes applied. Each change other than "same" can be undone (its raw words come
// back, its polished words go) and redone; the current text is what copy and paste use.

import type { Change } from "../api";

/** How a piece of text is shown: kept as is, struck out, marked as new, or put back by an undo. */
export type PartRole = "same" | "removed" | "added" | "restored";

export interface SegmentPart {
  text: string;
  role: PartRole;
}

export interface Segment {
  /** Index into the changes. */
  index: number;
  kind: Change["kind"];
  /** Whether the change can be undone (every kind but "same"). */
  undoable: boolean;
  undone: boolean;
  parts: SegmentPart[];
}

const CLOSING = /\s+([,.;:!?%)\]}…])/g;
const OPENING = /([([{])\s+/g;

/** Joins word runs with single spaces and puts punctuation back against its word. */
export function joinWords(pieces: string[]): string {
  const words = pieces.map((p) => p.trim()).filter((p) => p.length > 0);
  return words.join(" ").replace(CLOSING, "$1").replace(OPENING, "$1");
}

export class ChangeModel {
  readonly raw: string;
  readonly text: string;
  readonly changes: readonly Change[];
  private readonly undone = new Set<number>();

  constructor(raw: string, text: string, changes: readonly Change[]) {
    this.raw = raw;
    this.text = text;
    this.changes = changes;
  }

  /** Indices of the changes that can be undone. */
  undoableIndices(): number[] {
    const out: number[] = [];
    this.changes.forEach((c, i) => {
      if (c.kind !== "same") out.push(i);
    });
    return out;
  }

  /** The changes polishing was not sure of that are still made: worth a look before sending. */
  unsureIndices(): number[] {
    const out: number[] = [];
    this.changes.forEach((c, i) => {
      if (c.unsure && c.kind !== "same" && !this.undone.has(i)) out.push(i);
    });
    return out;
  }

  hasChanges(): boolean {
    return this.undoableIndices().length > 0;
  }

  isUndone(index: number): boolean {
    return this.undone.has(index);
  }

  undo(index: number): boolean {
    const change = this.changes[index];
    if (!change || change.kind === "same" || this.undone.has(index)) return false;
    this.undone.add(index);
    return true;
  }

  redo(index: number): boolean {
    return this.undone.delete(index);
  }

  /** Undoes a change, or redoes it when it is undone; returns whether it is now undone. */
  toggle(index: number): boolean {
    if (this.undone.has(index)) this.redo(index);
    else this.undo(index);
    return this.undone.has(index);
  }

  undoAll(): void {
    for (const i of this.undoableIndices()) this.undone.add(i);
  }

  redoAll(): void {
    this.undone.clear();
  }

  undoneCount(): number {
    return this.undone.size;
  }

  /**
   * The text with the undos applied. With nothing undone it is the polished text exactly; with
   * every change undone it is the raw text exactly; in between it is rebuilt from the changes.
   */
  currentText(): string {
    const undoable = this.undoableIndices();
    if (this.undone.size === 0) return this.text;
    if (undoable.length > 0 && undoable.every((i) => this.undone.has(i))) return this.raw;
    const pieces: string[] = [];
    this.changes.forEach((c, i) => {
      const undone = this.undone.has(i);
      switch (c.kind) {
        case "same":
          pieces.push(c.polished || c.raw);
          break;
        case "removed":
          if (undone) pieces.push(c.raw);
          break;
        case "inserted":
          if (!undone) pieces.push(c.polished);
          break;
        case "replaced":
          pieces.push(undone ? c.raw : c.polished);
          break;
      }
    });
    return joinWords(pieces);
  }

  /** What "show changes" draws: every change with its parts and roles. */
  segments(): Segment[] {
    return this.changes.map((c, index) => {
      const undone = this.undone.has(index);
      const parts: SegmentPart[] = [];
      const push = (text: string, role: PartRole) => {
        if (text.trim()) parts.push({ text, role });
      };
      switch (c.kind) {
        case "same":
          push(c.polished || c.raw, "same");
          break;
        case "removed":
          push(c.raw, undone ? "restored" : "removed");
          break;
        case "inserted":
          push(c.polished, undone ? "removed" : "added");
          break;
        case "replaced":
          if (undone) {
            push(c.raw, "restored");
            push(c.polished, "removed");
          } else {
            push(c.raw, "removed");
            push(c.polished, "added");
          }
          break;
      }
      return { index, kind: c.kind, undoable: c.kind !== "same", undone, parts };
    });
  }
}

/** A short description of a change for a button's label ("Undo: remove “um”"). */
export function describeChange(change: Change, undone: boolean): string {
  const raw = change.raw.trim();
  const polished = change.polished.trim();
  let what: string;
  switch (change.kind) {
    case "removed":
      what = `“${raw}” removed`;
      break;
    case "inserted":
      what = `“${polished}” inserted`;
      break;
    case "replaced":
      what = `“${raw}” changed to “${polished}”`;
      break;
    default:
      what = `“${raw}”`;
  }
  const unsure = change.unsure && !undone ? " (Scrivo was not sure of this change)" : "";
  return `${undone ? "Redo" : "Undo"}: ${what}${unsure}`;
}
