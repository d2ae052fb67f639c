// The flat `key = value` subset of TOML that an `account.toml` uses (strings, numbers, booleans,
// comments), for the sample fleet's settings. Anything else is reported, not guessed.

export type TomlValue = string | number | boolean;

/** The keys and values of a flat TOML document. Throws naming the line it cannot read. */
export function parseFlatToml(text: string): Record<string, TomlValue> {
  const out: Record<string, TomlValue> = {};
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = stripComment(raw).trim();
    if (line === "") return;
    const match = /^([A-Za-z0-9_-]+)\s*=\s*(.+)$/.exec(line);
    if (!match) throw new Error(`account.toml line ${i + 1}: expected key = value`);
    const [, key, value] = match;
    if (/^"(?:[^"\\]|\\.)*"$/.test(value)) out[key] = JSON.parse(value) as string;
    else if (value === "true" || value === "false") out[key] = value === "true";
    else if (/^[+-]?\d+(\.\d+)?$/.test(value)) out[key] = Number(value);
    else throw new Error(`account.toml line ${i + 1}: cannot read the value of ${key}`);
  });
  return out;
}

function stripComment(line: string): string {
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '"' && line[i - 1] !== "\\") quoted = !quoted;
    else if (line[i] === "#" && !quoted) return line.slice(0, i);
  }
  return line;
}
