import { describe, expect, it } from "vitest";
import type { Change } from "../src/api";
import { ChangeModel, describeChange, joinWords } from "../src/lib/changes";

// raw: "um so I think we should uh ship it on friday"
// polished: "So I think we should ship it on Friday."
const raw = "um so I think we should uh ship it on friday";
const text = "So I think we should ship it on Friday.";
const changes: Change[] = [
  { kind: "removed", raw: "um", polished: "", unsure: false },
  { kind: "replaced", raw: "so", polished: "So", unsure: false },
  { kind: "same", raw: "I think we should", polished: "I think we should", unsure: false },
  { kind: "removed", raw: "uh", polished: "", unsure: false },
  { kind: "same", raw: "ship it on", polished: "ship it on", unsure: false },
  { kind: "replaced", raw: "friday", polished: "Friday.", unsure: false },
];

describe("ChangeModel", () => {
  it("gives the polished text exactly when nothing is undone", () => {
    const m = new ChangeModel(raw, text, changes);
    expect(m.currentText()).toBe(text);
    expect(m.undoableIndices()).toEqual([0, 1, 3, 5]);
    expect(m.hasChanges()).toBe(true);
  });

  it("puts the raw words back for one undone change", () => {
    const m = new ChangeModel(raw, text, changes);
    expect(m.undo(3)).toBe(true);
    expect(m.currentText()).toBe("So I think we should uh ship it on Friday.");
    expect(m.isUndone(3)).toBe(true);
  });

  it("undoes a replacement and a removal together", () => {
    const m = new ChangeModel(raw, text, changes);
    m.undo(0);
    m.undo(1);
    expect(m.currentText()).toBe("um so I think we should ship it on Friday.");
  });

  it("redo brings the polished words back, and all-undone gives the raw text exactly", () => {
    const m = new ChangeModel(raw, text, changes);
    m.undo(5);
    expect(m.currentText()).toBe("So I think we should ship it on friday");
    m.redo(5);
    expect(m.currentText()).toBe(text);
    m.undoAll();
    expect(m.currentText()).toBe(raw);
    expect(m.undoneCount()).toBe(4);
    m.redoAll();
    expect(m.currentText()).toBe(text);
  });

  it("toggle flips a change and refuses 'same' stretches", () => {
    const m = new ChangeModel(raw, text, changes);
    expect(m.toggle(1)).toBe(true);
    expect(m.toggle(1)).toBe(false);
    expect(m.undo(2)).toBe(false);
    expect(m.isUndone(2)).toBe(false);
    expect(m.undo(99)).toBe(false);
  });

  it("undoing an insertion drops the inserted words", () => {
    const ins: Change[] = [
      { kind: "same", raw: "we use", polished: "we use", unsure: false },
      { kind: "inserted", raw: "", polished: "Kubernetes", unsure: false },
      { kind: "removed", raw: "cube nettys", polished: "", unsure: false },
      { kind: "same", raw: "daily", polished: "daily", unsure: false },
    ];
    const m = new ChangeModel("we use cube nettys daily", "we use Kubernetes daily", ins);
    m.undo(1);
    expect(m.currentText()).toBe("we use daily");
    m.redo(1);
    m.undo(2);
    expect(m.currentText()).toBe("we use Kubernetes cube nettys daily");
  });

  it("without changes the text is the polished text and nothing can be undone", () => {
    const m = new ChangeModel("hello", "Hello.", []);
    expect(m.hasChanges()).toBe(false);
    m.undoAll();
    expect(m.currentText()).toBe("Hello.");
  });

  it("renders segments with roles for each state", () => {
    const m = new ChangeModel(raw, text, changes);
    const segs = m.segments();
    expect(segs).toHaveLength(6);
    expect(segs[0]).toMatchObject({ kind: "removed", undoable: true, undone: false, parts: [{ text: "um", role: "removed" }] });
    expect(segs[1].parts).toEqual([
      { text: "so", role: "removed" },
      { text: "So", role: "added" },
    ]);
    expect(segs[2]).toMatchObject({ undoable: false, parts: [{ text: "I think we should", role: "same" }] });
    m.undo(0);
    m.undo(1);
    const after = m.segments();
    expect(after[0].parts).toEqual([{ text: "um", role: "restored" }]);
    expect(after[1].parts).toEqual([
      { text: "so", role: "restored" },
      { text: "So", role: "removed" },
    ]);
    expect(after[1].undone).toBe(true);
  });

  it("an undone insertion is shown struck out", () => {
    const m = new ChangeModel("a b", "a x b", [
      { kind: "same", raw: "a", polished: "a", unsure: false },
      { kind: "inserted", raw: "", polished: "x", unsure: false },
      { kind: "same", raw: "b", polished: "b", unsure: false },
    ]);
    expect(m.segments()[1].parts).toEqual([{ text: "x", role: "added" }]);
    m.undo(1);
    expect(m.segments()[1].parts).toEqual([{ text: "x", role: "removed" }]);
  });
});

describe("joinWords", () => {
  it("joins with single spaces and keeps punctuation against words", () => {
    expect(joinWords(["Hello", "", " world ", ","])).toBe("Hello world,");
    expect(joinWords(["yes", "(really", ")", "ok", "!"])).toBe("yes (really) ok!");
    expect(joinWords([])).toBe("");
  });
});

describe("describeChange", () => {
  it("names what an undo or redo would do", () => {
    expect(describeChange({ kind: "removed", raw: "um", polished: "", unsure: false }, false)).toBe("Undo: “um” removed");
    expect(describeChange({ kind: "replaced", raw: "so", polished: "So", unsure: false }, true)).toBe("Redo: “so” changed to “So”");
    expect(describeChange({ kind: "inserted", raw: "", polished: ",", unsure: false }, false)).toBe("Undo: “,” inserted");
    expect(describeChange({ kind: "removed", raw: "I guess", polished: "", unsure: true }, false)).toBe(
      "Undo: “I guess” removed (Scrivo was not sure of this change)",
    );
    expect(describeChange({ kind: "removed", raw: "I guess", polished: "", unsure: true }, true)).toBe("Redo: “I guess” removed");
    expect(describeChange({ kind: "replaced", raw: "so so", polished: "So", unsure: true }, false)).toBe(
      "Undo: “so so” changed to “So” (Scrivo was not sure of this change)",
    );
  });

  it("counts the unsure changes still made", () => {
    const marked = changes.map((c, i) => (i === 3 ? { ...c, unsure: true } : c));
    const m = new ChangeModel(raw, text, marked);
    expect(m.unsureIndices()).toEqual([3]);
    m.undo(3);
    expect(m.unsureIndices()).toEqual([]);
    expect(new ChangeModel(raw, text, changes).unsureIndices()).toEqual([]);
  });
});
