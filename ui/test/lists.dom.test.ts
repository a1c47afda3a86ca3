// @vitest-environment jsdom
import { beforeEach, describe, expect, it } from "vitest";
import { CONFLICT_PREFIX, type ListDoc, type RowProblem, type TermRow } from "../src/api";
import { createListsView } from "../src/views/lists";
import { allByTestId, byTestId, fakeServices, settle, type FakeServices } from "./fakes";

function setup() {
  let disk: ListDoc = {
    name: "team",
    path: "/lists/team.toml",
    enabled: true,
    version: "1",
    terms: [
      { term: "Kubernetes", soundsLike: ["cube nettys"], note: "" },
      { term: "Grafana", soundsLike: [], note: "dashboards" },
    ],
  };
  const services: FakeServices = fakeServices({
    biasLists: async () => [
      { name: disk.name, path: disk.path, enabled: disk.enabled, terms: disk.terms.length, problem: null },
      { name: "broken", path: "/lists/broken.toml", enabled: false, terms: 0, problem: "line 3: expected a string" },
    ],
    biasListGet: async () => structuredClone(disk),
    biasValidate: async (_name: string, terms: TermRow[]) => {
      const problems: RowProblem[] = [];
      terms.forEach((t, row) => {
        if (!t.term) problems.push({ row, field: "term", message: "A term cannot be empty." });
      });
      return problems;
    },
    biasListSave: async (_name: string, terms: TermRow[], version: string) => {
      if (version !== disk.version) throw { message: `${CONFLICT_PREFIX} the file changed` };
      disk = { ...disk, terms, version: String(Number(version) + 1) };
      return { version: disk.version };
    },
    biasSetEnabled: async () => {},
    biasTry: async (sentence: string) => ({
      text: sentence.replace("cube nettys", "Kubernetes"),
      changes: [
        { kind: "same", raw: "we use", polished: "we use", unsure: false },
        { kind: "replaced", raw: "cube nettys", polished: "Kubernetes", unsure: false },
      ],
    }),
  });
  const view = createListsView(services, 0);
  document.body.appendChild(view.el);
  return {
    services,
    view,
    root: view.el,
    changeOnDisk(terms: TermRow[]) {
      disk = { ...disk, terms, version: String(Number(disk.version) + 1) };
    },
    get disk() {
      return disk;
    },
  };
}

function type(input: HTMLInputElement | HTMLTextAreaElement, value: string): void {
  input.value = value;
  input.dispatchEvent(new Event("input", { bubbles: true }));
}

describe("Biasing lists view", () => {
  beforeEach(() => document.body.replaceChildren());

  it("lists the lists, with problems, and opens the first", async () => {
    const { root, view } = setup();
    await open(view);
    const rows = allByTestId(root, "list-row");
    expect(rows.map((r) => r.dataset.name)).toEqual(["team", "broken"]);
    expect(rows[1].querySelector('[data-testid="list-problem"]')?.textContent).toBe("line 3: expected a string");
    expect(allByTestId(root, "term-row")).toHaveLength(2);
    expect(byTestId<HTMLButtonElement>(root, "list-save").disabled).toBe(true);
  });

  it("edits, validates inline and saves; Save is off while there are errors", async () => {
    const { root, services, view } = setup();
    await open(view);
    byTestId<HTMLButtonElement>(root, "term-add").click();
    let rows = allByTestId(root, "term-row");
    expect(rows).toHaveLength(3);
    // a sounds-like without a term: invalid
    type(rows[2].querySelector<HTMLInputElement>('[data-testid="sounds-like-input"]')!, "prom, pro meth eus");
    await settle();
    const err = rows[2].querySelector<HTMLElement>('[data-testid="field-error"][data-field="term"]')!;
    expect(err.hidden).toBe(false);
    expect(err.textContent).toBe("A term cannot be empty.");
    expect(byTestId<HTMLButtonElement>(root, "list-save").disabled).toBe(true);

    type(rows[2].querySelector<HTMLInputElement>('[data-testid="term-input"]')!, "Prometheus");
    await settle();
    expect(err.hidden).toBe(true);
    const save = byTestId<HTMLButtonElement>(root, "list-save");
    expect(save.disabled).toBe(false);
    save.click();
    await settle();
    expect(services.api.biasListSave).toHaveBeenCalledWith(
      "team",
      [
        { term: "Kubernetes", soundsLike: ["cube nettys"], note: "" },
        { term: "Grafana", soundsLike: [], note: "dashboards" },
        { term: "Prometheus", soundsLike: ["prom", "pro meth eus"], note: "" },
      ],
      "1",
    );
    expect(byTestId(root, "list-saved").hidden).toBe(false);
    expect(save.disabled).toBe(true);

    // search filters rows; deleting a row makes the list dirty again
    type(byTestId<HTMLInputElement>(root, "term-search"), "graf");
    rows = allByTestId(root, "term-row");
    expect(rows).toHaveLength(1);
    rows[0].querySelector<HTMLButtonElement>('[data-testid="term-delete"]')!.click();
    expect(allByTestId(root, "term-row")).toHaveLength(0);
    expect(byTestId(root, "list-saved").hidden).toBe(true);
    await settle();
    expect(byTestId<HTMLButtonElement>(root, "list-save").disabled).toBe(false);
  });

  it("shows the conflict banner; Overwrite saves over the new version", async () => {
    const s = setup();
    await open(s.view);
    const row = allByTestId(s.root, "term-row")[1];
    type(row.querySelector<HTMLInputElement>('[data-testid="note-input"]')!, "metrics UI");
    s.changeOnDisk([{ term: "Loki", soundsLike: [], note: "" }]);
    await settle();
    // Ctrl+S saves
    const handled = s.view.onKey!(new KeyboardEvent("keydown", { key: "s", ctrlKey: true }));
    expect(handled).toBe(true);
    await settle();
    const banner = byTestId(s.root, "list-conflict");
    expect(banner.hidden).toBe(false);
    byTestId<HTMLButtonElement>(s.root, "list-overwrite").click();
    await settle();
    expect(banner.hidden).toBe(true);
    expect(s.disk.version).toBe("3");
    expect(s.disk.terms[1]).toEqual({ term: "Grafana", soundsLike: [], note: "metrics UI" });
  });

  it("Reload from disk drops the edits", async () => {
    const s = setup();
    await open(s.view);
    type(allByTestId(s.root, "term-row")[0].querySelector<HTMLInputElement>('[data-testid="term-input"]')!, "K8s");
    s.changeOnDisk([{ term: "Loki", soundsLike: ["low key"], note: "" }]);
    await settle();
    byTestId<HTMLButtonElement>(s.root, "list-save").click();
    await settle();
    byTestId<HTMLButtonElement>(s.root, "list-reload").click();
    await settle();
    expect(byTestId(s.root, "list-conflict").hidden).toBe(true);
    const inputs = allByTestId<HTMLInputElement>(s.root, "term-input");
    expect(inputs.map((i) => i.value)).toEqual(["Loki"]);
    expect(allByTestId<HTMLInputElement>(s.root, "sounds-like-input")[0].value).toBe("low key");
  });

  it("toggles a list and tries a sentence", async () => {
    const s = setup();
    await open(s.view);
    const sw = allByTestId<HTMLInputElement>(s.root, "list-enabled")[1];
    sw.checked = true;
    sw.dispatchEvent(new Event("change"));
    await settle();
    expect(s.services.api.biasSetEnabled).toHaveBeenCalledWith("broken", true);

    type(byTestId<HTMLTextAreaElement>(s.root, "try-input"), "we use cube nettys");
    await settle();
    const out = byTestId(s.root, "try-output");
    expect(out.querySelector("del")?.textContent).toBe("cube nettys");
    expect(out.querySelector("ins")?.textContent).toBe("Kubernetes");
    expect(s.services.api.biasTry).toHaveBeenCalledWith("we use cube nettys", null);
  });
});

/** What the shell does when it shows the view. */
async function open(view: ReturnType<typeof createListsView>): Promise<void> {
  view.activate!();
  await settle();
}

describe("Biasing lists view, broken files", () => {
  beforeEach(() => document.body.replaceChildren());

  it("says why a list cannot be opened", async () => {
    const services = fakeServices({
      biasLists: async () => [{ name: "broken", path: "/l/broken.toml", enabled: false, terms: 0, problem: "line 3: expected a string" }],
      biasListGet: async () => {
        throw { message: "broken.toml line 3: expected a string" };
      },
    });
    const view = createListsView(services, 0);
    document.body.appendChild(view.el);
    await open(view);
    const empty = byTestId(view.el, "list-editor-empty");
    expect(empty.hidden).toBe(false);
    expect(empty.textContent).toBe("broken.toml line 3: expected a string");
  });

  it("creates a new list and starts a first row", async () => {
    const services = fakeServices({
      biasLists: async () => [{ name: "fresh", path: "/l/fresh.toml", enabled: true, terms: 0, problem: null }],
      biasListCreate: async (name: string) => ({ name, path: `/l/${name}.toml`, enabled: true, terms: [], version: "1" }),
      biasListGet: async (name: string) => ({ name, path: `/l/${name}.toml`, enabled: true, terms: [], version: "1" }),
    });
    const view = createListsView(services, 0);
    document.body.appendChild(view.el);
    byTestId<HTMLInputElement>(view.el, "list-new-name").value = "fresh";
    byTestId<HTMLButtonElement>(view.el, "list-new").click();
    await settle();
    expect(services.api.biasListCreate).toHaveBeenCalledWith("fresh");
    expect(allByTestId(view.el, "list-row").map((r) => r.dataset.name)).toEqual(["fresh"]);
    expect(allByTestId(view.el, "term-row")).toHaveLength(1);
    expect(document.activeElement?.getAttribute("data-testid")).toBe("term-input");
  });
});
