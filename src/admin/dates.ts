// Dates as the jdb tools write and read them (joind-spec.md 7.4): UTC seconds since 1970, or human forms
// (`-a`) such as "Mon Jan 09 1995 10:00:00" and "01/09/1995 10:00:00". Always UTC: a dump moved between
// machines in other time zones must load to the same instants.

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const two = (n: number): string => String(n).padStart(2, '0');

/** "Mon Jan 09 1995 10:00:00" (UTC), the human form of `joind dump -a`. */
export function formatHumanDate(seconds: number): string {
  const d = new Date(seconds * 1000);
  return (
    `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${two(d.getUTCDate())} ${d.getUTCFullYear()} ` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`
  );
}

function utcSeconds(year: number, month: number, day: number, h: number, m: number, s: number): number | undefined {
  if (month < 0 || month > 11 || day < 1 || day > 31 || h > 23 || m > 59 || s > 60) return undefined;
  const ms = Date.UTC(year, month, day, h, m, s);
  const back = new Date(ms);
  if (back.getUTCDate() !== day) return undefined; // e.g. Feb 30
  return ms / 1000;
}

/**
 * Parses a date: UTC seconds ("789645600"), "Mon Jan 09 1995 10:00[:00]" (weekday optional and not
 * checked), "01/09/1995 10:00[:00]" (month/day/year) or ISO "1995-01-09[T ]10:00[:00][Z]". A date without
 * a time means midnight. Returns undefined when the text is none of these.
 */
export function parseDate(text: string): number | undefined {
  const t = text.trim();
  if (/^\d+$/.test(t)) return Number(t);
  let m = /^(?:[A-Za-z]{3}\s+)?([A-Za-z]{3})\s+(\d{1,2})\s+(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$/.exec(t);
  if (m) {
    const month = MONTHS.findIndex((name) => name.toLowerCase() === m![1]!.toLowerCase());
    if (month < 0) return undefined;
    return utcSeconds(Number(m[3]), month, Number(m[2]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0));
  }
  m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$/.exec(t);
  if (m) return utcSeconds(Number(m[3]), Number(m[1]) - 1, Number(m[2]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0));
  m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?Z?)?$/.exec(t);
  if (m) return utcSeconds(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0));
  return undefined;
}

/** "1 2026/11/23 20:15:00": dhcpd.leases(5) time (weekday number, then UTC date and time). */
export function formatDhcpdDate(seconds: number): string {
  const d = new Date(seconds * 1000);
  return (
    `${d.getUTCDay()} ${d.getUTCFullYear()}/${two(d.getUTCMonth() + 1)}/${two(d.getUTCDate())} ` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`
  );
}

/** Parses "W YYYY/MM/DD HH:MM:SS" (UTC, weekday ignored) or "epoch N" of dhcpd.leases(5). */
export function parseDhcpdDate(text: string): number | undefined {
  const t = text.trim();
  const epoch = /^epoch\s+(\d+)$/.exec(t);
  if (epoch) return Number(epoch[1]);
  const m = /^\d\s+(\d{4})\/(\d{1,2})\/(\d{1,2})\s+(\d{1,2}):(\d{2}):(\d{2})$/.exec(t);
  if (!m) return undefined;
  return utcSeconds(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}
