// The batch queue: the files added, their state through a run (from batch-progress events),
// the total progress and the summary line.

import type { BatchFile, BatchFileState, BatchProgress, BatchSummary } from "../api";

export interface QueueItem {
  path: string;
  name: string;
  bytes: number;
  state: BatchFileState;
  /** 0..1 for this file. */
  fraction: number;
  output: string | null;
  error: string | null;
}

const FINISHED: ReadonlySet<BatchFileState> = new Set(["done", "failed", "cancelled"]);

export function isFinished(state: BatchFileState): boolean {
  return FINISHED.has(state);
}

export class BatchQueue {
  private items: QueueItem[] = [];
  /** The files of the run in progress (or the last run), in BatchRequest.files order. */
  private runPaths: string[] = [];
  private active = false;
  private lastSummary: BatchSummary | null = null;

  list(): readonly QueueItem[] {
    return this.items;
  }

  get(path: string): QueueItem | undefined {
    return this.items.find((i) => i.path === path);
  }

  running(): boolean {
    return this.active;
  }

  summary(): BatchSummary | null {
    return this.lastSummary;
  }

  /** Adds files (skipping ones already queued); returns how many were new. */
  add(files: readonly BatchFile[]): number {
    let added = 0;
    for (const f of files) {
      if (this.get(f.path)) continue;
      this.items.push({ path: f.path, name: f.name, bytes: f.bytes, state: "queued", fraction: 0, output: null, error: null });
      added += 1;
    }
    return added;
  }

  /** Whether a file can be taken off the queue: it is waiting and not part of a running batch. */
  canRemove(path: string): boolean {
    const item = this.get(path);
    if (!item || item.state !== "queued") return false;
    return !(this.active && this.runPaths.includes(path));
  }

  remove(path: string): boolean {
    if (!this.canRemove(path)) return false;
    this.items = this.items.filter((i) => i.path !== path);
    return true;
  }

  /** Drops the files that are done, failed or cancelled. */
  clearFinished(): number {
    const before = this.items.length;
    this.items = this.items.filter((i) => !isFinished(i.state) || (this.active && this.runPaths.includes(i.path)));
    return before - this.items.length;
  }

  /** The files a Start would send: every one not done yet. */
  pending(): QueueItem[] {
    return this.items.filter((i) => i.state !== "done");
  }

  canStart(): boolean {
    return !this.active && this.pending().length > 0;
  }

  /** Begins a run over the pending files; returns their paths (BatchRequest.files). */
  startRun(): string[] {
    if (this.active) throw new Error("a batch is already running");
    const run = this.pending();
    for (const item of run) {
      item.state = "queued";
      item.fraction = 0;
      item.output = null;
      item.error = null;
    }
    this.runPaths = run.map((i) => i.path);
    this.active = run.length > 0;
    this.lastSummary = null;
    return [...this.runPaths];
  }

  /** The run could not start (batchStart rejected): back to how it was before. */
  abortRun(): void {
    this.active = false;
    this.runPaths = [];
  }

  /** Applies one batch-progress event; returns the item it changed, if any. */
  applyProgress(p: BatchProgress): QueueItem | undefined {
    let path = this.runPaths[p.index];
    if (path === undefined || (p.path && path !== p.path)) path = p.path;
    const item = this.get(path);
    if (!item) return undefined;
    item.state = p.state;
    item.fraction = p.state === "done" ? 1 : clamp01(p.fraction);
    if (p.output !== null && p.output !== undefined) item.output = p.output;
    if (p.state === "failed") item.error = p.error || "Failed";
    else if (p.error) item.error = p.error;
    else item.error = null;
    return item;
  }

  /** Applies batch-done: the run is over; files it never reached count as cancelled. */
  finish(summary: BatchSummary): void {
    for (const path of this.runPaths) {
      const item = this.get(path);
      if (item && !isFinished(item.state)) {
        item.state = "cancelled";
      }
    }
    this.active = false;
    this.lastSummary = summary;
  }

  /** The run's files, in order (empty before any run). */
  runItems(): QueueItem[] {
    return this.runPaths.map((p) => this.get(p)).filter((i): i is QueueItem => i !== undefined);
  }

  /** 0..1 over the current (or last) run: finished files count whole, running ones by fraction. */
  totalFraction(): number {
    const run = this.runItems();
    if (run.length === 0) return 0;
    let sum = 0;
    for (const item of run) sum += isFinished(item.state) ? 1 : clamp01(item.fraction);
    return sum / run.length;
  }

  /** Counts over the run's files by state. */
  counts(): Record<BatchFileState, number> {
    const counts: Record<BatchFileState, number> = { queued: 0, running: 0, done: 0, failed: 0, cancelled: 0 };
    for (const item of this.runItems()) counts[item.state] += 1;
    return counts;
  }

  /** The summary line: the batch-done summary once finished, else how far the run is. */
  summaryText(): string {
    if (this.lastSummary) return summaryText(this.lastSummary);
    if (this.active) {
      const run = this.runItems();
      const c = this.counts();
      const finished = c.done + c.failed + c.cancelled;
      const tail = c.failed > 0 ? ` (${c.failed} failed)` : "";
      return `${finished} of ${run.length} ${run.length === 1 ? "file" : "files"} finished${tail}`;
    }
    const waiting = this.pending().length;
    if (this.items.length === 0) return "No files yet";
    return `${waiting} ${waiting === 1 ? "file" : "files"} waiting`;
  }
}

/** "2 done, 1 failed", "3 done, 1 cancelled", "Nothing transcribed". */
export function summaryText(s: BatchSummary): string {
  const parts: string[] = [];
  if (s.done > 0) parts.push(`${s.done} done`);
  if (s.failed > 0) parts.push(`${s.failed} failed`);
  if (s.cancelled > 0) parts.push(`${s.cancelled} cancelled`);
  return parts.length > 0 ? parts.join(", ") : "Nothing transcribed";
}

function clamp01(x: number): number {
  if (!Number.isFinite(x)) return 0;
  return Math.max(0, Math.min(1, x));
}

/** The file name of a path (either separator). */
export function baseName(path: string): string {
  const trimmed = path.replace(/[\\/]+$/, "");
  const i = Math.max(trimmed.lastIndexOf("/"), trimmed.lastIndexOf("\\"));
  return i >= 0 ? trimmed.slice(i + 1) : trimmed;
}
