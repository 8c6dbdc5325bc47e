/**
 * Wording helpers. Core writes summaries and help as lowercase clauses ("wrong username or
 * password: ..."), fit for the CLI's `error: ...` lines; a window shows them as sentences.
 */

export function sentence(text: string | null | undefined): string {
  const t = (text ?? "").trim();
  if (!t) return "";
  const first = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?…:]$/.test(first) ? first : `${first}.`;
}

/** "just now", "2 min ago", "3 h ago", "yesterday", "5 days ago", else a date. */
export function ago(thenMs: number, nowMs: number = Date.now()): string {
  const s = Math.round((nowMs - thenMs) / 1000);
  if (s < 45) return "just now";
  const min = Math.round(s / 60);
  if (min < 60) return `${min} min ago`;
  const hours = Math.round(min / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.round(hours / 24);
  if (days === 1) return "yesterday";
  if (days < 14) return `${days} days ago`;
  return new Date(thenMs).toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
}

export function latency(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** `https://mlflow.example.com/` → `mlflow.example.com`, keeping a sub-path. */
export function shortUrl(url: string): string {
  try {
    const u = new URL(url);
    const path = u.pathname.replace(/\/+$/, "");
    return `${u.host}${path}`;
  } catch {
    return url;
  }
}
