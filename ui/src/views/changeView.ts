// Draws a ChangeModel's segments: removed words struck through, new words marked, words put
// back by an undo marked as restored; each change optionally with an undo/redo button. A
// change polishing was not sure of is outlined, so the user looks at it before sending.

import type { Change } from "../api";
import { ChangeModel, describeChange, type SegmentPart } from "../lib/changes";
import { h, replaceChildren } from "../lib/dom";

function partElement(part: SegmentPart): Node {
  switch (part.role) {
    case "removed":
      return h("del", { class: "part part-removed", text: part.text });
    case "added":
      return h("ins", { class: "part part-added", text: part.text });
    case "restored":
      return h("mark", { class: "part part-restored", text: part.text });
    default:
      return document.createTextNode(part.text);
  }
}

export interface ChangeViewOptions {
  /** Called with a change's index when its undo/redo button is pressed; no buttons without it. */
  onToggle?: (index: number) => void;
}

export function renderChanges(container: HTMLElement, model: ChangeModel, options: ChangeViewOptions = {}): void {
  const nodes: Node[] = [];
  for (const seg of model.segments()) {
    if (seg.parts.length === 0) continue;
    if (nodes.length > 0) nodes.push(document.createTextNode(" "));
    if (!seg.undoable) {
      for (const part of seg.parts) nodes.push(partElement(part));
      continue;
    }
    const change: Change = model.changes[seg.index];
    const unsure = change.unsure && !seg.undone;
    const wrap = h("span", {
      class: `change change-${seg.kind}${seg.undone ? " is-undone" : ""}${unsure ? " is-unsure" : ""}`,
      attrs: { "data-kind": seg.kind, "data-undone": seg.undone ? "true" : "false", "data-unsure": unsure ? "true" : "false", "data-index": seg.index },
    });
    if (unsure) wrap.title = "Scrivo was not sure of this change";
    seg.parts.forEach((part, i) => {
      if (i > 0) wrap.appendChild(document.createTextNode(" "));
      wrap.appendChild(partElement(part));
    });
    if (options.onToggle) {
      const onToggle = options.onToggle;
      const label = describeChange(change, seg.undone);
      wrap.appendChild(
        h("button", {
          type: "button",
          class: "change-undo",
          testid: "change-undo",
          title: label,
          text: seg.undone ? "↷" : "↶",
          attrs: { "aria-label": label, "aria-pressed": seg.undone ? "true" : "false", "data-index": seg.index },
          on: { click: () => onToggle(seg.index) },
        }),
      );
    }
    nodes.push(wrap);
  }
  replaceChildren(container, nodes);
}

/** A model for a text without an undo history (biasTry results, history). */
export function modelFor(raw: string, text: string, changes: Change[]): ChangeModel {
  return new ChangeModel(raw, text, changes);
}
