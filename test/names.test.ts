import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  canonicalDisplayName,
  canonicalRoom,
  codePoints,
  ephemeralUid,
  guestName,
  isValidUid,
  memberId,
} from '../src/chat/names.js';
import { isChoiceOf, suffixedName } from '../src/shared/rules.js';

const room = (s: unknown) => canonicalRoom(s);

test('room names are trimmed, NFC-normalized and lower-cased', () => {
  assert.deepEqual(room('  Lobby '), { ok: true, value: 'lobby' });
  assert.deepEqual(room('Cafe\u0301'), { ok: true, value: 'caf\u00e9' });
  assert.deepEqual(room('A.b_C-1'), { ok: true, value: 'a.b_c-1' });
});

test('room names of any script are accepted, up to 64 characters', () => {
  for (const name of ['日本語の部屋', '聊天室', 'комната', 'गपशप', 'x'.repeat(64), '部'.repeat(64)]) {
    assert.equal(room(name).ok, true, name);
  }
});

test('invalid room names say why', () => {
  for (const name of [
    '',
    '   ',
    'x'.repeat(65),
    'has space',
    'bang!',
    'a/b',
    'emoji😀',
    'tab\there',
    'nul\u0000',
    '#h',
  ]) {
    const r = room(name);
    assert.equal(r.ok, false, JSON.stringify(name));
    if (!r.ok) assert.ok(r.reason.length > 0);
  }
  assert.equal(room(undefined).ok, false);
  assert.equal(room(['a', 'b']).ok, false);
});

test('display names: trim + NFC, 1 to 32 characters, no control characters', () => {
  assert.deepEqual(canonicalDisplayName('  Bobby  '), { ok: true, value: 'Bobby' });
  assert.deepEqual(canonicalDisplayName('Zoe\u0308'), { ok: true, value: 'Zo\u00eb' });
  assert.equal(canonicalDisplayName('n'.repeat(32)).ok, true);
  assert.equal(canonicalDisplayName('😀'.repeat(32)).ok, true, 'astral characters count once');
  for (const bad of ['', '  ', 'n'.repeat(33), 'bell\u0007', 'two\nlines', 'sep\u2028x']) {
    assert.equal(canonicalDisplayName(bad).ok, false, JSON.stringify(bad));
  }
});

test('uids are 8 to 64 of [A-Za-z0-9_-]', () => {
  assert.equal(isValidUid('abcdefgh'), true);
  assert.equal(isValidUid('a'.repeat(64)), true);
  assert.equal(isValidUid('A_b-9xyz'), true);
  for (const bad of ['abcdefg', 'a'.repeat(65), 'abc.defgh', 'abcdefg!', 'ünicode12'])
    assert.equal(isValidUid(bad), false);
  assert.equal(isValidUid(ephemeralUid()), true, 'generated uids are valid uids');
});

test('member ids are stable per room and uid, differ between rooms, and hide the uid', () => {
  const a = memberId('secret-1234567890', 'lobby', 'uid-alice-1');
  assert.equal(memberId('secret-1234567890', 'lobby', 'uid-alice-1'), a);
  assert.notEqual(memberId('secret-1234567890', 'other', 'uid-alice-1'), a);
  assert.notEqual(memberId('secret-1234567890', 'lobby', 'uid-bob-111'), a);
  assert.notEqual(memberId('another-secret-123', 'lobby', 'uid-alice-1'), a, 'the id depends on the server secret');
  assert.ok(!a.includes('alice'));
});

test('guest names and code point counting', () => {
  assert.match(guestName(), /^guest-[0-9a-f]{4}$/);
  assert.equal(codePoints('abc'), 3);
  assert.equal(codePoints('語'.repeat(4000)), 4000);
  assert.equal(codePoints('😀😀'), 2);
  assert.equal(codePoints('\ud800x'), 2, 'a lone surrogate counts as one');
});

test('names that hide or disguise are refused: bidi, zero-width, tags, variation selectors, private use', () => {
  const disguises = {
    'right-to-left override': '\u202Etfel ecila',
    'bidi isolate': 'alice\u2066x\u2069',
    'zero-width space': 'ali\u200Bce',
    'zero-width joiner alone': '\u200D',
    'combining grapheme joiner': 'ali\u034Fce',
    'tag characters': 'alice\u{E0041}\u{E0042}',
    'variation selector': 'alice\uFE0F',
    'private use': 'alice\uE000',
    noncharacter: 'alice\uFFFF',
    'lone surrogate': 'alice\uD800',
    'line separator': 'ali\u2028ce',
    'nothing visible': '\u0301\u0301',
  };
  for (const [what, name] of Object.entries(disguises)) {
    assert.equal(canonicalDisplayName(name).ok, false, what);
  }
  assert.equal(canonicalDisplayName('Zoë 😀 (she/her)').ok, true, 'symbols and punctuation are visible');
  assert.equal(canonicalDisplayName('...').ok, true, 'punctuation alone is visible');
});

test('room names need a letter or digit and hold nothing invisible; lower-casing comes before NFC', () => {
  for (const name of ['.', '..', '-_-', 'lobby\uFE0F', 'lob\u200Bby', 'lobby\u034F', 'lob\u00ADby']) {
    assert.equal(room(name).ok, false, JSON.stringify(name));
  }
  assert.deepEqual(room('J\u030C'), { ok: true, value: '\u01F0' }, 'lower-case first, then NFC');
  for (const raw of ['ΆΣ', 'Ǆ', 'İstanbul', 'Å', 'W\u030A']) {
    const r = room(raw);
    assert.equal(r.ok, true, raw);
    if (r.ok) assert.equal(r.value, r.value.normalize('NFC'), `${raw}: the canonical name is NFC`);
  }
});

test('a page keeps the name the server made of the one it asked for, and asks again for anything else', () => {
  assert.equal(isChoiceOf('Alice', 'Alice'), true);
  assert.equal(isChoiceOf('Alice (2)', 'Alice'), true);
  assert.equal(isChoiceOf(suffixedName('Maximilian Castellanos-Whitford', 3), 'Maximilian Castellanos-Whitford'), true);
  assert.equal(isChoiceOf('Alice (2)', 'Bob'), false, 'another name');
  assert.equal(isChoiceOf('Alice (x)', 'Alice'), false);
  assert.equal(isChoiceOf('Alicia', 'Alice'), false);
});
