/**
 * Words for people reading a review: dates, durations and sentences. Written out by hand in UTC so a page or an email
 * reads the same whatever the runtime's locale or time zone (Intl output differs between Node builds).
 */

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

const plural = (n: number, unit: string): string => `${n} ${unit}${n === 1 ? '' : 's'}`;
const pad = (n: number): string => String(n).padStart(2, '0');

/** "1 March 2027" (UTC); the input as given when it is not a date. */
export function formatDate(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
}

/** "1 March 2027 at 10:04 UTC"; the input as given when it is not a date. */
export function formatDateTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${formatDate(iso)} at ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC`;
}

/** Whole calendar days (UTC) from `now` to `iso`: 0 today, 1 tomorrow, negative in the past. */
export function calendarDaysBetween(now: Date, iso: string): number {
  const day = (t: number) => Math.floor(t / DAY_MS);
  return day(Date.parse(iso)) - day(now.getTime());
}

/** "today", "tomorrow", "in 86 days", "yesterday", "3 days ago": a date relative to `now` in calendar days. */
export function relativeDay(iso: string, now: Date): string {
  const days = calendarDaysBetween(now, iso);
  if (Number.isNaN(days)) return '';
  if (days === 0) return 'today';
  if (days === 1) return 'tomorrow';
  if (days === -1) return 'yesterday';
  return days > 0 ? `in ${days} days` : `${-days} days ago`;
}

/** "in 3 days", "in 5 hours", "in 20 minutes", "2 hours ago": a moment relative to `now`. */
export function relativeTime(iso: string, now: Date): string {
  const ms = Date.parse(iso) - now.getTime();
  if (Number.isNaN(ms)) return '';
  const abs = Math.abs(ms);
  // Days and hours to the nearest: a deadline 71 h 59 min away reads "in 3 days", as the email that set it said.
  const span =
    abs >= 2 * DAY_MS
      ? plural(Math.round(abs / DAY_MS), 'day')
      : abs >= 2 * HOUR_MS
        ? plural(Math.round(abs / HOUR_MS), 'hour')
        : plural(Math.max(1, Math.floor(abs / MINUTE_MS)), 'minute');
  return ms >= 0 ? `in ${span}` : `${span} ago`;
}

/** "1 March 2027, in 86 days". */
export function dateFromNow(iso: string, now: Date): string {
  const rel = relativeDay(iso, now);
  return rel ? `${formatDate(iso)}, ${rel}` : formatDate(iso);
}

/** "4 March 2027 at 10:00 UTC, in 3 days". */
export function dateTimeFromNow(iso: string, now: Date): string {
  const rel = relativeTime(iso, now);
  return rel ? `${formatDateTime(iso)}, ${rel}` : formatDateTime(iso);
}

/** "5 minutes", "1 hour", "90 seconds": a duration given in seconds, in the largest unit that divides it. */
export function formatSeconds(seconds: number): string {
  if (seconds % 86_400 === 0) return plural(seconds / 86_400, 'day');
  if (seconds % 3600 === 0) return plural(seconds / 3600, 'hour');
  if (seconds % 60 === 0) return plural(seconds / 60, 'minute');
  return plural(seconds, 'second');
}

/** "1 day", "90 days". */
export function formatDays(days: number): string {
  return plural(days, 'day');
}

/** A policy message as one sentence: capital first letter, exactly one full stop, "2 approval(s)" as "2 approvals". */
export function sentence(text: string): string {
  const trimmed = text
    .trim()
    .replace(/[\s.;:,]+$/, '')
    .replace(/\b(\d+) (\w+)\(s\)/g, (_all, n: string, word: string) => `${n} ${word}${n === '1' ? '' : 's'}`);
  if (trimmed === '') return '';
  const end = /[!?]$/.test(trimmed) ? '' : '.';
  return `${trimmed[0]!.toUpperCase()}${trimmed.slice(1)}${end}`;
}
