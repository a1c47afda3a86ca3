import { describe, expect, it } from "vitest";
import type { ListDoc } from "../src/api";
import { TermTable, formatSoundsLike, parseSoundsLike } from "../src/lib/termTable";

function doc(): ListDoc {
  return {
    name: "team",
    path: "/home/me/.config/scrivo/biasing-lists/team.toml",
    enabled: true,
    version: "v1",
    terms: [
      { term: "Kubernetes", soundsLike: ["cube nettys", "cooper netties"], note: "the orchestrator" },
      { term: "Siobhan", soundsLike: ["shivawn"], note: "" },
      { term: "Grafana", soundsLike: [], note: "dashboards" },
    ],
  };
}

describe("parseSoundsLike", () => {
  it("splits a cell on commas and trims", () => {
    expect(parseSoundsLike("a, b")).toEqual(["a", "b"]);
    expect(parseSoundsLike("  cube nettys ,cooper   netties,, ")).toEqual(["cube nettys", "cooper netties"]);
    expect(parseSoundsLike("")).toEqual([]);
    expect(parseSoundsLike(" , ")).toEqual([]);
  });
  it("drops repeats and also splits on semicolons", () => {
    expect(parseSoundsLike("x; y, x")).toEqual(["x", "y"]);
  });
  it("formats back with comma and space", () => {
    expect(formatSoundsLike(["a", "b"])).toBe("a, b");
    expect(parseSoundsLike(formatSoundsLike(["cube nettys", "q"]))).toEqual(["cube nettys", "q"]);
  });
});

describe("TermTable", () => {
  it("loads rows as cells and is clean", () => {
    const t = new TermTable(doc());
    expect(t.allRows().map((r) => r.soundsLike)).toEqual(["cube nettys, cooper netties", "shivawn", ""]);
    expect(t.isDirty()).toBe(false);
    expect(t.canSave()).toBe(false);
    expect(t.terms()).toEqual(doc().terms);
  });

  it("tracks edits as dirty, and editing back makes it clean again", () => {
    const t = new TermTable(doc());
    const id = t.allRows()[1].id;
    t.edit(id, "term", "Siobhán");
    expect(t.isDirty()).toBe(true);
    expect(t.terms()[1].term).toBe("Siobhán");
    t.edit(id, "term", "Siobhan");
    expect(t.isDirty()).toBe(false);
  });

  it("ignores formatting-only changes of the sounds-like cell", () => {
    const t = new TermTable(doc());
    const id = t.allRows()[0].id;
    t.edit(id, "soundsLike", "cube nettys,cooper netties ");
    expect(t.isDirty()).toBe(false);
    t.edit(id, "soundsLike", "cube nettys, cooper netties, kuber");
    expect(t.isDirty()).toBe(true);
    expect(t.terms()[0].soundsLike).toEqual(["cube nettys", "cooper netties", "kuber"]);
  });

  it("adds and deletes rows; empty new rows are not saved and not dirty", () => {
    const t = new TermTable(doc());
    const row = t.add();
    expect(t.allRows()).toHaveLength(4);
    expect(t.isDirty()).toBe(false);
    expect(t.terms()).toHaveLength(3);
    t.edit(row.id, "term", "Prometheus");
    expect(t.isDirty()).toBe(true);
    expect(t.terms()[3]).toEqual({ term: "Prometheus", soundsLike: [], note: "" });
    expect(t.remove(row.id)).toBe(true);
    expect(t.isDirty()).toBe(false);
    expect(t.remove(t.allRows()[0].id)).toBe(true);
    expect(t.isDirty()).toBe(true);
    expect(t.terms().map((x) => x.term)).toEqual(["Siobhan", "Grafana"]);
    expect(t.remove(12345)).toBe(false);
    expect(() => t.edit(12345, "term", "x")).toThrow();
  });

  it("filters by term, spelling or note, case-insensitively, keeping empty rows", () => {
    const t = new TermTable(doc());
    expect(t.filter("").length).toBe(3);
    expect(t.filter("KUBER").map((r) => r.term)).toEqual(["Kubernetes"]);
    expect(t.filter("shiv").map((r) => r.term)).toEqual(["Siobhan"]);
    expect(t.filter("dashboards").map((r) => r.term)).toEqual(["Grafana"]);
    expect(t.filter("zzz")).toEqual([]);
    t.add();
    expect(t.filter("zzz").map((r) => r.term)).toEqual([""]);
  });

  it("maps problems onto the fields of the rows they name, skipping blank rows", () => {
    const t = new TermTable(doc());
    const blank = t.add(); // not sent, so the indices below skip it
    const last = t.add({ term: "grafana" });
    const snap = t.snapshot();
    expect(snap.rowIds).toHaveLength(4);
    expect(snap.rowIds).not.toContain(blank.id);
    t.setProblems(
      [
        { row: 0, field: "soundsLike", message: "“cube nettys” is also a spelling in ops" },
        { row: 3, field: "term", message: "Grafana is already in this list" },
        { row: 3, field: "term", message: "starts with a lower-case letter" },
        { row: null, field: "name", message: "the file has a syntax error" },
        { row: 9, field: "note", message: "late" },
      ],
      snap,
    );
    const first = t.allRows()[0].id;
    expect(t.errorsFor(first)).toEqual({ soundsLike: "“cube nettys” is also a spelling in ops" });
    expect(t.errorsFor(last.id)).toEqual({ term: "Grafana is already in this list; starts with a lower-case letter" });
    expect(t.errorsFor(blank.id)).toEqual({});
    expect(t.listProblems()).toEqual(["the file has a syntax error", "late"]);
    expect(t.hasProblems()).toBe(true);
    expect(t.canSave()).toBe(false);
  });

  it("an edit clears that field's old message; clearing problems allows saving", () => {
    const t = new TermTable(doc());
    const id = t.allRows()[2].id;
    t.setProblems([{ row: 2, field: "note", message: "too long" }], t.snapshot());
    t.edit(id, "note", "short");
    expect(t.errorsFor(id)).toEqual({});
    expect(t.hasProblems()).toBe(false);
    expect(t.canSave()).toBe(true);
  });

  it("markSaved sets the version and the new baseline", () => {
    const t = new TermTable(doc());
    t.edit(t.allRows()[0].id, "note", "k8s");
    t.markSaved("v2");
    expect(t.version).toBe("v2");
    expect(t.isDirty()).toBe(false);
  });
});
