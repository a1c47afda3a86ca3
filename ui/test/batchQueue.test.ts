import { describe, expect, it } from "vitest";
import type { BatchFile, BatchProgress } from "../src/api";
import { BatchQueue, baseName, summaryText } from "../src/lib/batchQueue";

const files: BatchFile[] = [
  { path: "/rec/a.wav", name: "a.wav", bytes: 1000 },
  { path: "/rec/b.wav", name: "b.wav", bytes: 2000 },
  { path: "/rec/c.wav", name: "c.wav", bytes: 3000 },
];

function progress(index: number, path: string, state: BatchProgress["state"], fraction: number, extra: Partial<BatchProgress> = {}): BatchProgress {
  return { index, path, state, fraction, output: null, error: null, ...extra };
}

describe("BatchQueue", () => {
  it("adds files once each", () => {
    const q = new BatchQueue();
    expect(q.add(files)).toBe(3);
    expect(q.add([files[0], { path: "/rec/d.wav", name: "d.wav", bytes: 1 }])).toBe(1);
    expect(q.list().map((i) => i.name)).toEqual(["a.wav", "b.wav", "c.wav", "d.wav"]);
    expect(q.list().every((i) => i.state === "queued" && i.fraction === 0)).toBe(true);
  });

  it("removes queued files, but not ones in a running batch", () => {
    const q = new BatchQueue();
    q.add(files);
    expect(q.remove("/rec/b.wav")).toBe(true);
    expect(q.list().map((i) => i.path)).toEqual(["/rec/a.wav", "/rec/c.wav"]);
    expect(q.startRun()).toEqual(["/rec/a.wav", "/rec/c.wav"]);
    expect(q.canRemove("/rec/a.wav")).toBe(false);
    expect(q.remove("/rec/a.wav")).toBe(false);
    // A file added during the run is not part of it and can go.
    q.add([{ path: "/rec/late.wav", name: "late.wav", bytes: 5 }]);
    expect(q.remove("/rec/late.wav")).toBe(true);
    expect(q.remove("/nope.wav")).toBe(false);
  });

  it("applies progress events by request index and computes the total", () => {
    const q = new BatchQueue();
    q.add(files);
    const run = q.startRun();
    expect(q.running()).toBe(true);
    expect(q.totalFraction()).toBe(0);
    q.applyProgress(progress(0, run[0], "running", 0.5));
    expect(q.get("/rec/a.wav")).toMatchObject({ state: "running", fraction: 0.5 });
    expect(q.totalFraction()).toBeCloseTo(0.5 / 3);
    q.applyProgress(progress(0, run[0], "done", 0.97, { output: "/rec/a.txt" }));
    expect(q.get("/rec/a.wav")).toMatchObject({ state: "done", fraction: 1, output: "/rec/a.txt" });
    q.applyProgress(progress(1, run[1], "failed", 0.2, { error: "not a WAV file" }));
    expect(q.get("/rec/b.wav")).toMatchObject({ state: "failed", error: "not a WAV file" });
    // finished files count whole, running ones by their fraction
    q.applyProgress(progress(2, run[2], "running", 0.25));
    expect(q.totalFraction()).toBeCloseTo((1 + 1 + 0.25) / 3);
    expect(q.summaryText()).toBe("2 of 3 files finished (1 failed)");
    q.applyProgress(progress(2, run[2], "done", 1, { output: "/rec/c.txt" }));
    q.finish({ done: 2, failed: 1, cancelled: 0 });
    expect(q.running()).toBe(false);
    expect(q.totalFraction()).toBe(1);
    expect(q.summaryText()).toBe("2 done, 1 failed");
    expect(q.counts()).toMatchObject({ done: 2, failed: 1, cancelled: 0 });
  });

  it("falls back on the path when the index does not match", () => {
    const q = new BatchQueue();
    q.add(files);
    q.startRun();
    const item = q.applyProgress(progress(7, "/rec/c.wav", "running", 0.4));
    expect(item?.path).toBe("/rec/c.wav");
    expect(q.applyProgress(progress(9, "/elsewhere.wav", "running", 0.4))).toBeUndefined();
  });

  it("clamps odd fractions", () => {
    const q = new BatchQueue();
    q.add(files);
    q.startRun();
    q.applyProgress(progress(0, "/rec/a.wav", "running", 3));
    q.applyProgress(progress(1, "/rec/b.wav", "running", Number.NaN));
    expect(q.get("/rec/a.wav")?.fraction).toBe(1);
    expect(q.get("/rec/b.wav")?.fraction).toBe(0);
  });

  it("marks files a cancelled run never reached as cancelled", () => {
    const q = new BatchQueue();
    q.add(files);
    q.startRun();
    q.applyProgress(progress(0, "/rec/a.wav", "done", 1, { output: "/rec/a.txt" }));
    q.applyProgress(progress(1, "/rec/b.wav", "running", 0.3));
    q.finish({ done: 1, failed: 0, cancelled: 2 });
    expect(q.list().map((i) => i.state)).toEqual(["done", "cancelled", "cancelled"]);
    expect(q.summaryText()).toBe("1 done, 2 cancelled");
  });

  it("a second Start runs what is not done yet, with fresh state", () => {
    const q = new BatchQueue();
    q.add(files);
    q.startRun();
    q.applyProgress(progress(0, "/rec/a.wav", "done", 1, { output: "/rec/a.txt" }));
    q.applyProgress(progress(1, "/rec/b.wav", "failed", 0, { error: "boom" }));
    q.finish({ done: 1, failed: 1, cancelled: 1 });
    expect(q.canStart()).toBe(true);
    expect(q.startRun()).toEqual(["/rec/b.wav", "/rec/c.wav"]);
    expect(q.get("/rec/b.wav")).toMatchObject({ state: "queued", error: null, fraction: 0 });
    expect(q.summary()).toBeNull();
    // index 0 of the new request is b.wav
    q.applyProgress(progress(0, "/rec/b.wav", "running", 0.5));
    expect(q.get("/rec/b.wav")?.state).toBe("running");
    expect(q.get("/rec/a.wav")?.state).toBe("done");
  });

  it("abortRun puts things back when the start fails", () => {
    const q = new BatchQueue();
    q.add(files);
    q.startRun();
    q.abortRun();
    expect(q.running()).toBe(false);
    expect(q.canStart()).toBe(true);
    expect(q.canRemove("/rec/a.wav")).toBe(true);
  });

  it("clears finished files", () => {
    const q = new BatchQueue();
    q.add(files);
    q.startRun();
    q.applyProgress(progress(0, "/rec/a.wav", "done", 1));
    q.applyProgress(progress(1, "/rec/b.wav", "failed", 0, { error: "x" }));
    q.applyProgress(progress(2, "/rec/c.wav", "done", 1));
    q.finish({ done: 2, failed: 1, cancelled: 0 });
    q.add([{ path: "/rec/d.wav", name: "d.wav", bytes: 1 }]);
    expect(q.clearFinished()).toBe(3);
    expect(q.list().map((i) => i.path)).toEqual(["/rec/d.wav"]);
  });

  it("describes an idle queue", () => {
    const q = new BatchQueue();
    expect(q.summaryText()).toBe("No files yet");
    q.add(files.slice(0, 1));
    expect(q.summaryText()).toBe("1 file waiting");
    expect(q.canStart()).toBe(true);
  });
});

describe("summaryText", () => {
  it("lists only the non-zero counts", () => {
    expect(summaryText({ done: 2, failed: 1, cancelled: 0 })).toBe("2 done, 1 failed");
    expect(summaryText({ done: 0, failed: 0, cancelled: 3 })).toBe("3 cancelled");
    expect(summaryText({ done: 0, failed: 0, cancelled: 0 })).toBe("Nothing transcribed");
  });
});

describe("baseName", () => {
  it("takes the last part of either kind of path", () => {
    expect(baseName("/a/b/c.wav")).toBe("c.wav");
    expect(baseName("C:\\rec\\x.wav")).toBe("x.wav");
    expect(baseName("/a/dir/")).toBe("dir");
  });
});
