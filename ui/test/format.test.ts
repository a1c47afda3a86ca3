import { describe, expect, it } from "vitest";
import { formatBytes, formatDate, formatDuration, formatLatency, plural } from "../src/lib/format";

describe("formatDate", () => {
  const now = new Date(2025, 5, 15, 18, 30).getTime(); // 15 Jun 2025 18:30 local
  it("says Today and Yesterday", () => {
    expect(formatDate(new Date(2025, 5, 15, 9, 5).getTime(), now)).toBe("Today 09:05");
    expect(formatDate(new Date(2025, 5, 14, 23, 59).getTime(), now)).toBe("Yesterday 23:59");
  });
  it("gives day and month this year, and the year before that", () => {
    expect(formatDate(new Date(2025, 2, 3, 14, 3).getTime(), now)).toBe("3 Mar 14:03");
    expect(formatDate(new Date(2024, 11, 31, 8, 0).getTime(), now)).toBe("31 Dec 2024 08:00");
  });
  it("handles the first of a month (yesterday across months)", () => {
    const first = new Date(2025, 6, 1, 10, 0).getTime();
    expect(formatDate(new Date(2025, 5, 30, 22, 15).getTime(), first)).toBe("Yesterday 22:15");
  });
  it("shows a dash for nonsense", () => {
    expect(formatDate(Number.NaN, now)).toBe("—");
  });
});

describe("formatDuration", () => {
  it("uses m:ss and h:mm:ss", () => {
    expect(formatDuration(0)).toBe("0:00");
    expect(formatDuration(5.4)).toBe("0:05");
    expect(formatDuration(59.6)).toBe("1:00");
    expect(formatDuration(754)).toBe("12:34");
    expect(formatDuration(3723)).toBe("1:02:03");
    expect(formatDuration(-1)).toBe("—");
    expect(formatDuration(Number.POSITIVE_INFINITY)).toBe("—");
  });
});

describe("formatBytes", () => {
  it("uses decimal units with up to three significant digits", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(999)).toBe("999 B");
    expect(formatBytes(1500)).toBe("1.5 kB");
    expect(formatBytes(142_000_000)).toBe("142 MB");
    expect(formatBytes(1_550_000_000)).toBe("1.55 GB");
    expect(formatBytes(2_000_000_000)).toBe("2 GB");
    expect(formatBytes(47_600_000)).toBe("47.6 MB");
    expect(formatBytes(210_000_000)).toBe("210 MB");
    expect(formatBytes(100_000)).toBe("100 kB");
    expect(formatBytes(10_000)).toBe("10 kB");
    expect(formatBytes(-5)).toBe("—");
  });
});

describe("formatLatency and plural", () => {
  it("formats latencies", () => {
    expect(formatLatency(850.4)).toBe("850 ms");
    expect(formatLatency(1234)).toBe("1.2 s");
  });
  it("pluralises", () => {
    expect(plural(1, "term")).toBe("1 term");
    expect(plural(0, "term")).toBe("0 terms");
    expect(plural(3, "entry", "entries")).toBe("3 entries");
  });
});
