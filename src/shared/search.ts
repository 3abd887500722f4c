/**
 * How search reads text (PROTOCOL.md v2, Search): the terms a message is indexed under and the
 * terms a query asks for. Both stores index the terms this module makes, so SQLite and PostgreSQL
 * find the same messages, and the page highlights what matched with the same rules. Compiled for
 * the browser too (/assets/js/search.js), so it imports only rules.js.
 *
 * - A word is a run of letters, digits and combining marks (of any script) that are not Chinese or
 *   Japanese, compared after NFKC and lower-casing, on its first WORD_MAX code points: `Hello,`
 *   is the term `hello`; `e-mail` is `e` then `mail`.
 * - A run of Chinese or Japanese characters (which are written without spaces) is indexed as its
 *   overlapping pairs, then its last character alone: `東京タワー` is `東京 京タ タワ ワー ー`. A
 *   query run of two or more characters asks for its pairs one after the other (a phrase), so it
 *   matches as a substring; a query run of one character matches any pair it begins.
 * - Everything else (spaces, punctuation, symbols, emoji) separates terms and is not searched.
 *
 * Changing these rules changes what the stores hold (and what SQLite's index is told to delete):
 * it needs a migration that rebuilds both indexes.
 */
import { codePoints } from './rules.js';

/** Most code points in a search query, after trim. */
export const SEARCH_Q_MAX = 200;
/** Results in a page of search without `limit`, and the most in one. */
export const SEARCH_DEFAULT = 20;
export const SEARCH_MAX = 100;
/** Code points of a word that count: a longer word is indexed and asked for by its first ones. */
export const WORD_MAX = 64;
/**
 * Words of a query that count, and of those, lone Chinese or Japanese characters (each matches
 * every pair it begins, the costliest thing to ask): what is past them is not asked for.
 */
export const QUERY_WORDS_MAX = 16;
export const QUERY_PREFIXES_MAX = 4;

/** Chinese and Japanese: Han, kana, the iteration mark 々 and the long-vowel marks ー and ｰ. */
const SPACELESS_RE = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\u3005\u30fc\uff70]/u;
const WORD_RE = /[\p{L}\p{N}\p{M}]/u;
const ASCII_RE = /^[\x20-\x7e]*$/;
const LONG_ASCII_WORD_RE = new RegExp(`[A-Za-z0-9]{${WORD_MAX + 1}}`);

/** A term of a text and where it is: UTF-16 offsets into the text as given (NFC). */
export interface Term {
  term: string;
  start: number;
  end: number;
  /** For a pair of spaceless characters: where its first character ends. */
  mid?: number;
}

interface Run {
  spaceless: boolean;
  /** The run's characters after folding, one entry per character of the text it came from. */
  chars: string[];
  /** Offsets of each entry in the text. */
  starts: number[];
  ends: number[];
}

/** What a folded character is to search. */
const SEPARATOR = 0;
const WORD = 1;
const SPACELESS = 2;
type Kind = typeof SEPARATOR | typeof WORD | typeof SPACELESS;

/** Folded forms and kinds of the characters met lately (a text repeats its characters). */
const folded = new Map<string, string>();
const kinds = new Map<string, Kind>();
const CACHE_MAX = 20_000;

/** Lower-case, compatibility-folded form of one character (ｱ → ア, ＡＢ → ab, ﬁ → fi). */
function fold(ch: string): string {
  let f = folded.get(ch);
  if (f === undefined) {
    f = ch.normalize('NFKC').toLowerCase();
    if (folded.size >= CACHE_MAX) folded.clear();
    folded.set(ch, f);
  }
  return f;
}

function kindOf(f: string): Kind {
  let k = kinds.get(f);
  if (k === undefined) {
    k = SPACELESS_RE.test(f) ? SPACELESS : WORD_RE.test(f) ? WORD : SEPARATOR;
    if (kinds.size >= CACHE_MAX) kinds.clear();
    kinds.set(f, k);
  }
  return k;
}

/** The runs of word and of spaceless characters of a text, in order. */
function runs(text: string): Run[] {
  const out: Run[] = [];
  let run: Run | null = null;
  let i = 0;
  for (const ch of text) {
    const start = i;
    i += ch.length;
    for (const f of fold(ch)) {
      const kind = kindOf(f);
      if (kind === SEPARATOR) {
        run = null;
        continue;
      }
      const spaceless = kind === SPACELESS;
      if (!run || run.spaceless !== spaceless) {
        run = { spaceless, chars: [], starts: [], ends: [] };
        out.push(run);
      }
      if (!spaceless && run.starts.at(-1) === start) {
        run.chars[run.chars.length - 1] += f; // one character folded into several (ﬁ → fi)
      } else {
        run.chars.push(f);
        run.starts.push(start);
        run.ends.push(i);
      }
    }
  }
  return out;
}

/** A word run's term: its first WORD_MAX code points. */
function wordTerm(run: Run): string {
  const word = run.chars.join('');
  return codePoints(word) > WORD_MAX ? [...word].slice(0, WORD_MAX).join('') : word;
}

/** The terms of a text in order, with where each is (the highlighting of a result uses these). */
export function termsOf(text: string): Term[] {
  const terms: Term[] = [];
  for (const run of runs(text.normalize('NFC'))) {
    const last = run.chars.length - 1;
    if (!run.spaceless) {
      terms.push({ term: wordTerm(run), start: run.starts[0] as number, end: run.ends[last] as number });
      continue;
    }
    for (let k = 0; k < last; k++) {
      terms.push({
        term: `${run.chars[k]}${run.chars[k + 1]}`,
        start: run.starts[k] as number,
        end: run.ends[k + 1] as number,
        mid: run.ends[k] as number,
      });
    }
    terms.push({ term: run.chars[last] as string, start: run.starts[last] as number, end: run.ends[last] as number });
  }
  return terms;
}

/**
 * What a message is indexed under: its terms, in order, separated by single spaces. A term holds
 * no ASCII character other than lower-case letters and digits, so an index that splits on ASCII
 * punctuation and spaces (FTS5's `ascii` tokenizer) reads the same terms back.
 */
export function indexText(text: string): string {
  if (ASCII_RE.test(text)) {
    // the common case, without a regular expression per character
    return text
      .toLowerCase()
      .split(/[^a-z0-9]+/)
      .filter((w) => w !== '')
      .map((w) => (w.length > WORD_MAX ? w.slice(0, WORD_MAX) : w))
      .join(' ');
  }
  return indexTerms(text.normalize('NFC')).join(' ');
}

/**
 * Kinds of the BMP characters that fold to themselves, learnt as they are met: 0 not known yet,
 * 1 + Kind otherwise, 255 folds to something else. Most text (CJK above all) then needs no Map.
 */
const BMP_SAME = 255;
const bmpKinds = new Uint8Array(0x10000);

function bmpKind(code: number, ch: string): number {
  let k = bmpKinds[code] as number;
  if (k === 0) {
    const f = fold(ch);
    k = f === ch ? 1 + kindOf(f) : BMP_SAME;
    bmpKinds[code] = k;
  }
  return k;
}

/** The terms of termsOf without their offsets, made in one pass (a long text is indexed often). */
function indexTerms(text: string): string[] {
  const terms: string[] = [];
  let word = '';
  let prev = ''; // the last character of the spaceless run going on, if any
  let pending: string[] | null = null; // characters a character folded into, still to take
  let p = 0;
  for (let i = 0; i < text.length || (pending !== null && p < pending.length); ) {
    let f: string;
    let kind: number;
    if (pending !== null && p < pending.length) {
      f = pending[p++] as string;
      kind = kindOf(f);
    } else {
      pending = null;
      const code = text.charCodeAt(i);
      const k = code < 0xd800 || code > 0xdfff ? bmpKind(code, text[i] as string) : BMP_SAME;
      if (k !== BMP_SAME) {
        f = text[i] as string;
        kind = k - 1;
        i++;
      } else {
        // a character that folds to others, or one beyond the BMP (a surrogate pair)
        const cp = text.codePointAt(i) as number;
        i += cp > 0xffff ? 2 : 1;
        pending = [...fold(String.fromCodePoint(cp))];
        p = 0;
        continue;
      }
    }
    if (kind === WORD) {
      if (prev !== '') {
        terms.push(prev);
        prev = '';
      }
      word += f;
      continue;
    }
    if (word !== '') {
      terms.push(codePoints(word) > WORD_MAX ? [...word].slice(0, WORD_MAX).join('') : word);
      word = '';
    }
    if (kind === SPACELESS) {
      if (prev !== '') terms.push(prev + f);
      prev = f;
    } else if (prev !== '') {
      terms.push(prev);
      prev = '';
    }
  }
  if (word !== '') terms.push(codePoints(word) > WORD_MAX ? [...word].slice(0, WORD_MAX).join('') : word);
  if (prev !== '') terms.push(prev);
  return terms;
}

/**
 * A text as an index whose tokenizer splits on ASCII punctuation and spaces and lower-cases ASCII
 * letters (FTS5's `ascii`) reads it into the terms of `indexText`: a plain ASCII text as it is
 * (the tokenizer does that work, faster), any other as its terms.
 */
export function ftsText(text: string): string {
  return ASCII_RE.test(text) && !LONG_ASCII_WORD_RE.test(text) ? text : indexText(text);
}

/**
 * One thing a query asks for: these terms one after the other (a phrase); with `prefix`, the last
 * one only begins a term. A message matches a query when it matches every one of its phrases.
 */
export interface Phrase {
  terms: string[];
  prefix: boolean;
}

/**
 * The phrases of a query: one per whitespace-separated word (`e-mail` asks for `e` then `mail`), or
 * none when it holds nothing searchable (only punctuation or emoji); at most QUERY_WORDS_MAX, of
 * which at most QUERY_PREFIXES_MAX lone characters. A Chinese or Japanese run
 * asks for its pairs; it ends with its last character alone only when more of the word follows
 * (as the text indexes it), and a run of one character at the end of a word is a prefix.
 */
export function parseQuery(q: string): Phrase[] {
  const phrases: Phrase[] = [];
  for (const word of q.normalize('NFC').split(/\s+/u)) {
    const terms: string[] = [];
    let prefix = false;
    const rs = runs(word);
    for (const [r, run] of rs.entries()) {
      const more = r < rs.length - 1;
      if (!run.spaceless) {
        terms.push(wordTerm(run));
        continue;
      }
      const last = run.chars.length - 1;
      for (let k = 0; k < last; k++) terms.push(`${run.chars[k]}${run.chars[k + 1]}`);
      if (more) terms.push(run.chars[last] as string);
      else if (last === 0) {
        terms.push(run.chars[0] as string);
        prefix = true;
      }
    }
    if (terms.length === 0 || (prefix && phrases.filter((p) => p.prefix).length >= QUERY_PREFIXES_MAX)) continue;
    phrases.push({ terms, prefix });
    if (phrases.length === QUERY_WORDS_MAX) break;
  }
  return phrases;
}

/** A query as FTS5 reads it: `"a b" AND "c" *` (terms never hold a double quote). */
export function fts5Query(phrases: readonly Phrase[]): string {
  return phrases.map((p) => `"${p.terms.join(' ')}"${p.prefix ? ' *' : ''}`).join(' AND ');
}

/** Where in `text` the terms of the query are, sorted and merged: what a result highlights. */
export function matchedRanges(text: string, phrases: readonly Phrase[]): Array<[start: number, end: number]> {
  const terms = termsOf(text);
  const ranges: Array<[number, number]> = [];
  for (const { terms: want, prefix } of phrases) {
    for (let i = 0; i + want.length <= terms.length; i++) {
      const hit = want.every((w, k) => {
        const t = (terms[i + k] as Term).term;
        return prefix && k === want.length - 1 ? t.startsWith(w) : t === w;
      });
      if (!hit) continue;
      const first = terms[i] as Term;
      const last = terms[i + want.length - 1] as Term;
      // one character asked for as a prefix: of a pair, only its first character matched
      ranges.push([first.start, prefix && want.length === 1 && last.mid !== undefined ? last.mid : last.end]);
    }
  }
  ranges.sort((a, b) => a[0] - b[0]);
  const merged: Array<[number, number]> = [];
  for (const r of ranges) {
    const prev = merged.at(-1);
    if (prev && r[0] <= prev[1]) prev[1] = Math.max(prev[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  return merged;
}
