// Just enough CSV (RFC 4180) for the page's own edits: the what-if changes rewrite the plans and
// eligibility files as text, and the changes export keeps the rows of SIMs that move. Parsing
// and validating the files is the engine's work, not this module's.

/** The records of CSV text (quoted fields, doubled quotes, CRLF or LF, a leading BOM). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const n = text.length;
  for (; i < n; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += c;
  }
  if (field !== "" || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** One field, quoted when it must be. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) || /^\s|\s$/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** Records as CSV text (LF line ends, a final newline). */
export function toCsv(rows: readonly (readonly string[])[]): string {
  return rows.map((row) => row.map(csvField).join(",")).join("\n") + "\n";
}

/**
 * The header and the rows of CSV text whose `column` is `value` (the text of each kept record
 * as written). Records are split with quotes respected, so a field may hold commas or newlines.
 */
export function filterCsv(text: string, column: string, value: string): string {
  const out: string[] = [];
  let start = 0;
  let index = -1;
  let header = true;
  const n = text.length;
  while (start < n) {
    // Find the end of this record: a newline outside quotes.
    let end = start;
    let quoted = false;
    for (; end < n; end++) {
      const c = text.charCodeAt(end);
      if (c === 34) quoted = !quoted;
      else if (c === 10 && !quoted) break;
    }
    const record = text.slice(start, end).replace(/\r$/, "");
    start = end + 1;
    if (record === "") continue;
    const fields = parseCsv(record)[0] ?? [];
    if (header) {
      index = fields.indexOf(column);
      if (index < 0) throw new Error(`the CSV has no ${column} column`);
      out.push(record);
      header = false;
    } else if (fields[index] === value) out.push(record);
  }
  return out.join("\n") + "\n";
}
