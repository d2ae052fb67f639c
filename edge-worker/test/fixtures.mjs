// The fixture cases of tests/fixtures/cases, bundled into the test module (Vite's raw imports),
// and the request bodies built from them. Shared by the workerd tests; no I/O at run time.

const raw = import.meta.glob("../../tests/fixtures/cases/*/*", {
  query: "?raw",
  import: "default",
  eager: true,
});

/** Case name → file name → text. */
export const cases = {};
for (const [path, text] of Object.entries(raw)) {
  const [, name, file] = path.match(/cases\/([^/]+)\/([^/]+)$/);
  (cases[name] ??= {})[file] = text;
}

const KINDS = ["sims", "plans", "eligibility"];

/** The case's file of one kind as [file name, text], CSV or JSON, if it has one. */
export function caseFile(fixture, kind) {
  for (const name of [`${kind}.csv`, `${kind}.json`]) {
    if (fixture[name] !== undefined) return [name, fixture[name]];
  }
  return undefined;
}

/**
 * The case as multipart form data: its files as file fields, its settings.json as text fields
 * (or as a `settings` file). `sims`/`plans`/`eligibility` options replace a file: [name, text].
 */
export function fixtureForm(fixture, options = {}) {
  const { settingsAsFile = false, settingsAsFields = !settingsAsFile } = options;
  const form = new FormData();
  for (const kind of KINDS) {
    const file = options[kind] ?? caseFile(fixture, kind);
    if (file) form.append(kind, new File([file[1]], file[0]));
  }
  if (settingsAsFile) {
    form.append("settings", new File([fixture["settings.json"]], "settings.json"));
  } else if (settingsAsFields) {
    for (const [key, value] of Object.entries(JSON.parse(fixture["settings.json"]))) {
      form.append(key, String(value));
    }
  }
  return form;
}

/** The case as a JSON request body with the files as text. */
export function fixtureJson(fixture) {
  const body = {};
  for (const kind of KINDS) {
    const file = caseFile(fixture, kind);
    if (file) body[kind] = file[1];
  }
  body.settings = JSON.parse(fixture["settings.json"]);
  return body;
}

/** A simple CSV file (no quoted fields) as an array of row objects with text values. */
export function csvRows(text) {
  const [header, ...lines] = text.trimEnd().split(/\r?\n/);
  const names = header.split(",");
  return lines.map((line) => {
    const values = line.split(",");
    return Object.fromEntries(names.map((name, i) => [name, values[i] ?? ""]));
  });
}

/** The CSV with some fields of one row (spreadsheet numbering: header = row 1) replaced. */
export function withSimRow(text, row, changes) {
  const lines = text.split("\n");
  const names = lines[0].split(",");
  const values = lines[row - 1].split(",");
  for (const [name, value] of Object.entries(changes)) values[names.indexOf(name)] = value;
  lines[row - 1] = values.join(",");
  return lines.join("\n");
}
