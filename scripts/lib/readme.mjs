// Generated blocks of the README: the text between a start and an end marker is replaced.
import { readFileSync, writeFileSync } from 'node:fs';

/** Replaces `start`..`end` (both kept) in `file` with `start`, `body` and `end` on lines of their own. */
export function writeGeneratedBlock(file, start, end, body) {
  const text = readFileSync(file, 'utf8');
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`${file} has no ${start} … ${end} markers`);
  writeFileSync(file, `${text.slice(0, from)}${start}\n${body}\n${end}${text.slice(to + end.length)}`);
}
