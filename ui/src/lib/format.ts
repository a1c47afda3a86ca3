// Dates, durations, sizes and latencies as the views show them.

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function sameDay(a: Date, b: Date): boolean {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

/** "Today 14:03", "Yesterday 09:12", "3 Mar 14:03" (this year) or "3 Mar 2024 14:03" (local time). */
export function formatDate(ms: number, now: number = Date.now()): string {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return "—";
  const today = new Date(now);
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  const time = `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
  if (sameDay(d, today)) return `Today ${time}`;
  if (sameDay(d, yesterday)) return `Yesterday ${time}`;
  const day = `${d.getDate()} ${MONTHS[d.getMonth()]}`;
  if (d.getFullYear() === today.getFullYear()) return `${day} ${time}`;
  return `${day} ${d.getFullYear()} ${time}`;
}

/** Seconds as "0:05", "12:34" or "1:02:03" (rounded to the nearest second). */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "—";
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h > 0 ? `${h}:${pad2(m)}:${pad2(s)}` : `${m}:${pad2(s)}`;
}

/** Bytes in decimal units: "0 B", "999 B", "1.5 kB", "142 MB", "1.55 GB". */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return "—";
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  if (unit === 0) return `${Math.round(value)} B`;
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  // Trim trailing zeros ("1.50 MB" -> "1.5 MB", "2.00 GB" -> "2 GB").
  let text = value.toFixed(digits);
  if (text.includes(".")) text = text.replace(/\.?0+$/, "");
  return `${text} ${units[unit]}`;
}

/** A latency: "850 ms" below a second, else "1.2 s". */
export function formatLatency(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

/** "1 term", "3 terms". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
