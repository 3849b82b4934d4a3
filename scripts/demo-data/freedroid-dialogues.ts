/**
 * Chat conversations from the NPC dialogues of FreedroidRPG (Debian package `freedroidrpg-data`,
 * GPL-2+): every `dialogs/<Npc>.lua` file is a dialogue tree whose nodes hold the line the player
 * (Tux) picks (`text = _"…"`, said by Tux unless `echo_text = false`) and a script of
 * `Tux:says(_"…")` / `Npc:says(_"…")` lines. Each node (and each FirstTime/EveryTime block) becomes
 * one conversation: a system message naming the character ("You are Bender."), then Tux's lines as
 * `user` and the NPC's as `assistant` (consecutive lines of one speaker joined). Branches of an
 * `if` inside a node are read in file order (a known simplification). `%s` (the player's name) is
 * replaced with "Tux", the game's [b]…[/b] markup is dropped, and lines with other format specifiers are dropped. Rows are grouped by
 * character, so held-out conversations are of characters never seen in training.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { packageVersion, unpackDebianPackage } from '../real-data/debian-packages.ts';

export const FREEDROID_DATA = {
  package: 'freedroidrpg-data',
  license: 'GPL-2.0-or-later',
  description: 'NPC dialogues of the FreedroidRPG game (dialogs/*.lua), one conversation per dialogue node',
};

export interface ChatRow {
  messages: Array<{ role: 'system' | 'user' | 'assistant'; content: string }>;
  group: string;
}

function luaFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return luaFiles(p);
    return p.includes(`${path.sep}dialogs${path.sep}`) && name.endsWith('.lua') ? [p] : [];
  });
}

const SAYS = /\b(Tux|Npc):says\(\s*_?"((?:[^"\\]|\\.)*)"/;
const NODE_TEXT = /^\s*text\s*=\s*_?"((?:[^"\\]|\\.)*)"/;
const BLOCK_START = /^\s*(id\s*=\s*"[^"]+"|(FirstTime|EveryTime)\s*=\s*function)/;

function clean(s: string): string | undefined {
  // The game's text markup ([b]…[/b] for emphasis) is dropped.
  const t = s.replace(/\\"/g, '"').replace(/\\n/g, ' ').replace(/\[\/?[a-z]+\]/g, '').replace(/%s/g, 'Tux').replace(/\s+/g, ' ').trim();
  if (t === '' || /%[0-9.]*[a-z]/i.test(t)) return undefined;
  return t;
}

/** The conversations of one dialogue file. */
export function parseDialogue(source: string, character: string): ChatRow[] {
  const rows: ChatRow[] = [];
  let lines: Array<{ role: 'user' | 'assistant'; text: string }> = [];
  let pendingText: string | undefined;
  const flush = () => {
    if (pendingText !== undefined) lines.unshift({ role: 'user', text: pendingText });
    pendingText = undefined;
    const messages: ChatRow['messages'] = [{ role: 'system', content: `You are ${character}.` }];
    for (const l of lines) {
      const last = messages[messages.length - 1]!;
      if (last.role === l.role) last.content += ` ${l.text}`;
      else messages.push({ role: l.role, content: l.text });
    }
    lines = [];
    // A conversation needs a user turn before an assistant reply to teach anything.
    const firstUser = messages.findIndex((m) => m.role === 'user');
    if (firstUser > 0 && messages.slice(firstUser).some((m) => m.role === 'assistant')) rows.push({ messages: [messages[0]!, ...messages.slice(firstUser)], group: character });
  };
  for (const raw of source.split('\n')) {
    const line = raw.replace(/^\s*--.*$/, '');
    if (BLOCK_START.test(line)) flush();
    const text = NODE_TEXT.exec(line);
    if (text) {
      const t = clean(text[1]!);
      if (t) pendingText = t;
      continue;
    }
    if (/echo_text\s*=\s*false/.test(line)) pendingText = undefined;
    const says = SAYS.exec(line);
    if (says) {
      const t = clean(says[2]!);
      if (t) lines.push({ role: says[1] === 'Tux' ? 'user' : 'assistant', text: t });
    }
  }
  flush();
  return rows;
}

/** Every conversation of the package's dialogues, in a stable order (files sorted by path). */
export function freedroidConversations(): { rows: ChatRow[]; version: string } {
  const root = unpackDebianPackage(FREEDROID_DATA.package);
  const files = luaFiles(path.join(root, 'usr/share/freedroidrpg/data')).sort();
  const rows = files.flatMap((f) => parseDialogue(readFileSync(f, 'utf8'), path.basename(f, '.lua').replace(/[-_]/g, ' ')));
  return { rows, version: packageVersion(FREEDROID_DATA.package) };
}
