import { describe, expect, it, vi } from "vitest";
import { CONFLICT_PREFIX, type ListDoc, type RowProblem, type TermRow } from "../src/api";
import { ListEditor, isConflict, type ListApi } from "../src/lib/listEditor";

/** A fake back end holding one list on "disk", whose file another program may change. */
function fakeDisk() {
  let disk: ListDoc = {
    name: "team",
    path: "/lists/team.toml",
    enabled: true,
    version: "1",
    terms: [{ term: "Kubernetes", soundsLike: ["cube nettys"], note: "" }],
  };
  let problems: RowProblem[] = [];
  const api: ListApi = {
    biasListGet: vi.fn(async (name: string) => {
      if (name !== disk.name) throw { message: `no list named ${name}` };
      return structuredClone(disk);
    }),
    biasValidate: vi.fn(async () => problems),
    biasListSave: vi.fn(async (name: string, terms: TermRow[], version: string) => {
      if (version !== disk.version) throw { message: `${CONFLICT_PREFIX} ${name} changed on disk` };
      disk = { ...disk, terms: structuredClone(terms), version: String(Number(disk.version) + 1) };
      return { version: disk.version };
    }),
  };
  return {
    api,
    get disk() {
      return disk;
    },
    /** Another program edits the file. */
    changeOnDisk(terms: TermRow[]) {
      disk = { ...disk, terms, version: String(Number(disk.version) + 1) };
    },
    setProblems(p: RowProblem[]) {
      problems = p;
    },
  };
}

describe("ListEditor", () => {
  it("recognises conflict messages", () => {
    expect(isConflict(`${CONFLICT_PREFIX} x`)).toBe(true);
    expect(isConflict("disk full")).toBe(false);
  });

  it("saves edits with the version it loaded and is clean after", async () => {
    const f = fakeDisk();
    const ed = new ListEditor(f.api);
    await ed.open("team");
    const t = ed.table!;
    t.edit(t.add().id, "term", "Grafana");
    ed.edited();
    expect(await ed.save()).toBe("saved");
    expect(f.api.biasListSave).toHaveBeenCalledWith("team", [{ term: "Kubernetes", soundsLike: ["cube nettys"], note: "" }, { term: "Grafana", soundsLike: [], note: "" }], "1");
    expect(t.version).toBe("2");
    expect(t.isDirty()).toBe(false);
    expect(ed.justSaved).toBe(true);
    expect(await ed.save()).toBe("unchanged");
  });

  it("does not save when validation finds problems, and maps them to fields", async () => {
    const f = fakeDisk();
    const ed = new ListEditor(f.api);
    await ed.open("team");
    const t = ed.table!;
    const row = t.add({ term: "kubernetes" });
    f.setProblems([{ row: 1, field: "term", message: "duplicate of Kubernetes" }]);
    expect(await ed.save()).toBe("invalid");
    expect(f.api.biasListSave).not.toHaveBeenCalled();
    expect(t.errorsFor(row.id).term).toBe("duplicate of Kubernetes");
  });

  it("on a conflict, reload from disk drops the edits and shows the file", async () => {
    const f = fakeDisk();
    const ed = new ListEditor(f.api);
    await ed.open("team");
    ed.table!.edit(ed.table!.allRows()[0].id, "note", "mine");
    f.changeOnDisk([{ term: "Kubernetes", soundsLike: [], note: "theirs" }]);
    expect(await ed.save()).toBe("conflict");
    expect(ed.conflict).toBe("team changed on disk");
    expect(ed.table!.isDirty()).toBe(true);
    await ed.reloadFromDisk();
    expect(ed.conflict).toBeNull();
    expect(ed.table!.terms()[0].note).toBe("theirs");
    expect(ed.table!.version).toBe("2");
    expect(ed.table!.isDirty()).toBe(false);
  });

  it("on a conflict, overwrite takes the new version and saves the edits over it", async () => {
    const f = fakeDisk();
    const ed = new ListEditor(f.api);
    await ed.open("team");
    ed.table!.edit(ed.table!.allRows()[0].id, "note", "mine");
    f.changeOnDisk([{ term: "Other", soundsLike: [], note: "" }]);
    expect(await ed.save()).toBe("conflict");
    expect(await ed.overwrite()).toBe("saved");
    expect(ed.conflict).toBeNull();
    expect(f.disk.terms).toEqual([{ term: "Kubernetes", soundsLike: ["cube nettys"], note: "mine" }]);
    expect(f.disk.version).toBe("3");
    expect(ed.table!.version).toBe("3");
    expect(ed.table!.isDirty()).toBe(false);
  });

  it("other save failures become an error message, not a conflict", async () => {
    const f = fakeDisk();
    (f.api.biasListSave as ReturnType<typeof vi.fn>).mockRejectedValueOnce({ message: "permission denied" });
    const ed = new ListEditor(f.api);
    await ed.open("team");
    ed.table!.edit(ed.table!.allRows()[0].id, "term", "K8s");
    expect(await ed.save()).toBe("error");
    expect(ed.error).toBe("permission denied");
    expect(ed.conflict).toBeNull();
    expect(ed.saving).toBe(false);
  });

  it("drops validation answers that arrive after a newer request", async () => {
    const f = fakeDisk();
    const ed = new ListEditor(f.api);
    await ed.open("team");
    const id = ed.table!.allRows()[0].id;
    let releaseFirst: (p: RowProblem[]) => void = () => {};
    (f.api.biasValidate as ReturnType<typeof vi.fn>)
      .mockImplementationOnce(() => new Promise<RowProblem[]>((r) => (releaseFirst = r)))
      .mockResolvedValueOnce([]);
    const first = ed.validate();
    const second = ed.validate();
    expect(await second).toBe(true);
    releaseFirst([{ row: 0, field: "term", message: "stale" }]);
    expect(await first).toBe(false);
    expect(ed.table!.errorsFor(id)).toEqual({});
  });

  it("reports a list that cannot be opened", async () => {
    const f = fakeDisk();
    const ed = new ListEditor(f.api);
    const changes = vi.fn();
    ed.onChange(changes);
    await ed.open("missing");
    expect(ed.table).toBeNull();
    expect(ed.error).toBe("no list named missing");
    expect(changes).toHaveBeenCalled();
  });
});
