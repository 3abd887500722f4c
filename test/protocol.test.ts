import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkText, errorFrame, parseClientFrame, TEXT_MAX } from '../src/chat/protocol.js';
import { splitAroundSeq } from '../src/chat/store/shared.js';

test('well-formed client frames parse to typed frames', () => {
  assert.deepEqual(parseClientFrame('{"type":"message","text":"hi","clientMsgId":"c1"}'), {
    ok: true,
    frame: { type: 'message', text: 'hi', clientMsgId: 'c1' },
  });
  assert.deepEqual(parseClientFrame('{"type":"typing"}'), { ok: true, frame: { type: 'typing' } });
  assert.equal(parseClientFrame('{"type":"rename","name":"Bob"}').ok, true);
  assert.equal(parseClientFrame('{"type":"direct","to":"m1","text":"psst"}').ok, true);
});

test('malformed frames are bad_request with a reason', () => {
  const frames = [
    'not json',
    '{"type":"message",',
    '[]',
    '"s"',
    '42',
    'null',
    '{}',
    '{"type":"nope"}',
    '{"type":42}',
    '{"type":"message"}',
    '{"type":"message","text":42}',
    '{"type":"message","text":"x","clientMsgId":7}',
    '{"type":"rename"}',
    '{"type":"rename","name":7}',
    '{"type":"direct","text":"no to"}',
    '{"type":"direct","to":7,"text":"x"}',
    '{"type":"direct","to":"m1"}',
    '{"type":"toString"}',
    '{"type":"__proto__"}',
  ];
  for (const raw of frames) {
    const r = parseClientFrame(raw);
    assert.equal(r.ok, false, raw);
    if (!r.ok) {
      assert.equal(r.code, 'bad_request', raw);
      assert.ok(r.message.length > 0);
    }
  }
});

test('a refused frame keeps its clientMsgId for the error', () => {
  const r = parseClientFrame('{"type":"message","text":null,"clientMsgId":"c9"}');
  assert.equal(r.ok, false);
  if (!r.ok) assert.equal(r.clientMsgId, 'c9');
});

test('text is trimmed and limited to 4000 code points', () => {
  assert.deepEqual(checkText('  hi  '), { ok: true, text: 'hi' });
  assert.equal(checkText('   ').ok, false);
  assert.equal(checkText('a'.repeat(TEXT_MAX)).ok, true);
  assert.equal(checkText('語'.repeat(TEXT_MAX)).ok, true, '4000 CJK characters');
  assert.equal(checkText('😀'.repeat(TEXT_MAX)).ok, true, '4000 astral characters (8000 UTF-16 units)');
  assert.equal(checkText('a'.repeat(TEXT_MAX + 1)).ok, false);
  assert.equal(checkText('😀'.repeat(TEXT_MAX + 1)).ok, false);
});

test('events serialize with seq after room, and errors carry clientMsgId only when given', () => {
  const [head, tail] = splitAroundSeq({ type: 'join', room: 'r', member: { id: 'm', name: 'n' }, ts: 'T' });
  assert.equal(`${head}7${tail}`, '{"type":"join","room":"r","seq":7,"member":{"id":"m","name":"n"},"ts":"T"}');
  const message = {
    type: 'message' as const,
    room: 'r"',
    id: 'i',
    from: { id: 'm', name: 'n' },
    text: '"}\n',
    ts: 'T',
  };
  const [h, t] = splitAroundSeq(message);
  assert.deepEqual(JSON.parse(`${h}12${t}`), { ...message, seq: 12 }, 'whatever the text holds');
  assert.deepEqual(JSON.parse(errorFrame({ code: 'invalid_text', message: 'm' })), {
    type: 'error',
    code: 'invalid_text',
    message: 'm',
  });
  assert.equal(JSON.parse(errorFrame({ code: 'rate_limited', message: 'm', clientMsgId: 'c' })).clientMsgId, 'c');
});
