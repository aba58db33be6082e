// Expand the VEVENTs of an iCalendar file with ical.js, the parser of Thunderbird-family
// clients, so the Python tests can check what an independent implementation makes of our
// output.
//
// Usage: node tests/js/expand.mjs UNTIL [MAX_PER_SERIES] < calendar.ics
//
// UNTIL is a UTC instant ("2028-12-31T23:59:59Z") or a date ("2028-12-31", meaning up to the
// end of that day in UTC). Recurring series are expanded (EXDATEs removed, RECURRENCE-ID
// overrides applied) for every occurrence whose original start (its recurrence id) is not
// after UNTIL, and at most MAX_PER_SERIES (default 5000) occurrences per series.
//
// Prints a JSON array sorted by start, then UID, then recurrence id. Each item has: uid,
// recurrence_id (the RECURRENCE-ID of the override component the item comes from, else
// null), summary, status, sequence, start, end (UTC "YYYY-MM-DDTHH:MM:SSZ", or "YYYY-MM-DD"
// for all-day values), all_day, and start_tzid: the zone ical.js resolved the start in
// ("UTC", a VTIMEZONE's TZID, or "floating" when no definition was found).
import ICAL from "ical.js";
import { readFileSync } from "node:fs";

const DEFAULT_MAX_PER_SERIES = 5000;

/** Parse the UNTIL argument into a JS timestamp (inclusive upper bound, milliseconds). */
function parseUntil(text) {
  if (!text) {
    throw new Error("usage: expand.mjs UNTIL [MAX_PER_SERIES] < calendar.ics");
  }
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(text);
  const millis = Date.parse(dateOnly ? `${text}T23:59:59Z` : text);
  if (Number.isNaN(millis)) {
    throw new Error(`invalid UNTIL: ${text}`);
  }
  return millis;
}

/** Render an ICAL.Time as a UTC ISO string (or a plain date for all-day values). */
function isoUtc(time) {
  if (!time) {
    return null;
  }
  if (time.isDate) {
    return time.toString();
  }
  return new Date(time.toUnixTime() * 1000).toISOString().replace(".000Z", "Z");
}

/** Milliseconds since the epoch of an ICAL.Time (floating times are read as UTC). */
function millisOf(time) {
  return time.toUnixTime() * 1000;
}

/** One output record for an occurrence. */
function record(item, start, end) {
  const component = item.component;
  const recurrenceId = component.getFirstPropertyValue("recurrence-id");
  const sequence = component.getFirstPropertyValue("sequence");
  return {
    uid: item.uid,
    recurrence_id: recurrenceId ? isoUtc(recurrenceId) : null,
    summary: item.summary ?? null,
    status: component.getFirstPropertyValue("status") ?? null,
    sequence: sequence === null || sequence === undefined ? null : Number(sequence),
    start: isoUtc(start),
    end: isoUtc(end),
    all_day: Boolean(start && start.isDate),
    start_tzid: start ? start.zone.tzid : null,
  };
}

/** Expand one master event (with its overrides related) up to `until`. */
function expandSeries(event, until, maxPerSeries) {
  if (!event.isRecurring()) {
    return [record(event, event.startDate, event.endDate)];
  }
  const results = [];
  const iterator = event.iterator();
  let next;
  while ((next = iterator.next()) && results.length < maxPerSeries) {
    if (millisOf(next) > until) {
      break;
    }
    const details = event.getOccurrenceDetails(next);
    results.push(record(details.item, details.startDate, details.endDate));
  }
  return results;
}

/** Expand every VEVENT of the calendar text. */
function expandCalendar(text, until, maxPerSeries) {
  const calendar = new ICAL.Component(ICAL.parse(text));
  const vevents = calendar.getAllSubcomponents("vevent");
  const masters = [];
  const masterByUid = new Map();
  const overrides = [];
  for (const vevent of vevents) {
    if (vevent.hasProperty("recurrence-id")) {
      overrides.push(vevent);
      continue;
    }
    const event = new ICAL.Event(vevent);
    masters.push(event);
    if (!masterByUid.has(event.uid)) {
      masterByUid.set(event.uid, event);
    }
  }
  const results = [];
  for (const override of overrides) {
    const master = masterByUid.get(override.getFirstPropertyValue("uid"));
    if (master) {
      master.relateException(override);
    } else {
      // An override without its series (e.g. a single-occurrence update): report it as is.
      const orphan = new ICAL.Event(override);
      results.push(record(orphan, orphan.startDate, orphan.endDate));
    }
  }
  for (const master of masters) {
    results.push(...expandSeries(master, until, maxPerSeries));
  }
  const key = (r) => [r.start ?? "", r.uid ?? "", r.recurrence_id ?? ""].join("\u0000");
  return results.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

function main() {
  const until = parseUntil(process.argv[2]);
  const maxPerSeries = process.argv[3] ? Number(process.argv[3]) : DEFAULT_MAX_PER_SERIES;
  const text = readFileSync(0, "utf8");
  process.stdout.write(JSON.stringify(expandCalendar(text, until, maxPerSeries)) + "\n");
}

try {
  main();
} catch (error) {
  process.stderr.write(`expand.mjs: ${error.stack ?? error}\n`);
  process.exit(1);
}
