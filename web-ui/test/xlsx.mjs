// Reads an .xlsx file back for the page tests, with Node alone: the zip's central directory,
// each part inflated with zlib, the sheets' cells from their XML (shared strings resolved).
// Enough for the workbooks simopt writes; not a general spreadsheet reader.
import { inflateRawSync } from "node:zlib";

/** The zip's files: name → Buffer. */
export function unzip(buffer) {
  const eocd = buffer.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error("not a zip file (no end of central directory)");
  const count = buffer.readUInt16LE(eocd + 10);
  let at = buffer.readUInt32LE(eocd + 16);
  const files = new Map();
  for (let i = 0; i < count; i++) {
    if (buffer.readUInt32LE(at) !== 0x02014b50) throw new Error("bad central directory entry");
    const method = buffer.readUInt16LE(at + 10);
    const compressed = buffer.readUInt32LE(at + 20);
    const nameLength = buffer.readUInt16LE(at + 28);
    const extraLength = buffer.readUInt16LE(at + 30);
    const commentLength = buffer.readUInt16LE(at + 32);
    const local = buffer.readUInt32LE(at + 42);
    const name = buffer.toString("utf8", at + 46, at + 46 + nameLength);
    const dataAt = local + 30 + buffer.readUInt16LE(local + 26) + buffer.readUInt16LE(local + 28);
    const data = buffer.subarray(dataAt, dataAt + compressed);
    files.set(name, method === 8 ? inflateRawSync(data) : method === 0 ? Buffer.from(data) : null);
    at += 46 + nameLength + extraLength + commentLength;
  }
  return files;
}

const unescape = (text) =>
  text.replace(/&(lt|gt|amp|quot|apos|#\d+);/g, (_, e) =>
    ({ lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" })[e] ?? String.fromCodePoint(Number(e.slice(1))),
  );

/** Sheet name → Map of "A1" references → the cell's value (string or number text). */
export function readWorkbook(buffer) {
  const files = unzip(buffer);
  const text = (name) => files.get(name)?.toString("utf8") ?? "";
  const strings = [...text("xl/sharedStrings.xml").matchAll(/<si>([\s\S]*?)<\/si>/g)].map((m) =>
    unescape([...m[1].matchAll(/<t[^>]*>([\s\S]*?)<\/t>/g)].map((t) => t[1]).join("")),
  );
  const rels = new Map(
    [...text("xl/_rels/workbook.xml.rels").matchAll(/<Relationship [^>]*Id="([^"]+)"[^>]*Target="([^"]+)"/g)].map((m) => [m[1], m[2]]),
  );
  const sheets = new Map();
  for (const m of text("xl/workbook.xml").matchAll(/<sheet [^>]*name="([^"]+)"[^>]*r:id="([^"]+)"/g)) {
    const target = rels.get(m[2]).replace(/^\/?(xl\/)?/, "xl/");
    const cells = new Map();
    for (const c of text(target).matchAll(/<c r="([A-Z]+\d+)"([^>]*?)(?:\/>|>([\s\S]*?)<\/c>)/g)) {
      const [, ref, attrs, body = ""] = c;
      const type = /t="([^"]+)"/.exec(attrs)?.[1];
      const v = /<v>([\s\S]*?)<\/v>/.exec(body)?.[1];
      const inline = /<is>[\s\S]*?<t[^>]*>([\s\S]*?)<\/t>/.exec(body)?.[1];
      if (type === "s" && v !== undefined) cells.set(ref, strings[Number(v)]);
      else if (type === "inlineStr" && inline !== undefined) cells.set(ref, unescape(inline));
      else if (type === "str" && v !== undefined) cells.set(ref, unescape(v));
      else if (v !== undefined) cells.set(ref, v);
    }
    sheets.set(unescape(m[1]), cells);
  }
  return sheets;
}

/** The value right of the first cell whose text is `label` (the Summary sheet's key figures). */
export function valueBeside(cells, label) {
  for (const [ref, value] of cells) {
    if (value !== label) continue;
    const [, col, row] = /^([A-Z]+)(\d+)$/.exec(ref);
    for (let c = col.charCodeAt(0) + 1; c <= 90; c++) {
      const found = cells.get(`${String.fromCharCode(c)}${row}`);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}
