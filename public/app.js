// Minimal room client: connects, shows the room's log and members, sends messages, and resumes
// with `since` after a disconnect. All user text goes into the DOM as text, never as HTML.
const room = document.body.dataset.room;
const log = document.getElementById('log');
const membersList = document.getElementById('members');
const status = document.getElementById('status');
const nameInput = document.getElementById('name');
const textInput = document.getElementById('text');

const uid = localStorage.getItem('roomchat.uid') ?? crypto.randomUUID().replaceAll('-', '');
localStorage.setItem('roomchat.uid', uid);
nameInput.value = localStorage.getItem('roomchat.name') ?? '';

let socket = null;
let lastSeq = null;
let attempt = 0;
const members = new Map();

function line(text, cls) {
  const li = document.createElement('li');
  li.textContent = text;
  if (cls) li.className = cls;
  log.append(li);
  li.scrollIntoView({ block: 'end' });
}

function renderMembers() {
  membersList.replaceChildren(
    ...[...members.values()].map((m) => {
      const li = document.createElement('li');
      li.textContent = m.name;
      return li;
    }),
  );
}

function show(event) {
  if (lastSeq !== null && event.seq <= lastSeq) return; // seen already
  lastSeq = event.seq;
  if (event.type === 'message') line(`${event.from.name}: ${event.text}`);
  else if (event.type === 'join') {
    members.set(event.member.id, event.member);
    line(`${event.member.name} joined`, 'system');
  } else if (event.type === 'leave') {
    members.delete(event.member.id);
    line(`${event.member.name} left`, 'system');
  } else if (event.type === 'rename') {
    members.set(event.member.id, event.member);
    line(`${event.previous} is now ${event.member.name}`, 'system');
  }
  renderMembers();
}

function connect() {
  const params = new URLSearchParams({ room, uid });
  if (nameInput.value.trim()) params.set('name', nameInput.value.trim());
  if (lastSeq !== null) params.set('since', String(lastSeq));
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  socket = new WebSocket(`${proto}//${location.host}/ws?${params}`);
  socket.onmessage = (e) => {
    const frame = JSON.parse(e.data);
    if (frame.type === 'welcome') {
      attempt = 0;
      status.textContent = 'connected';
      members.clear();
      for (const m of frame.members) members.set(m.id, m);
      if (!nameInput.value) nameInput.value = frame.you.name;
      for (const ev of frame.history) show(ev);
      renderMembers();
    } else if (frame.type === 'error') line(`error: ${frame.message}`, 'system');
    else if (frame.type === 'direct') line(`(private) ${frame.from.name}: ${frame.text}`);
    else if (frame.seq !== undefined) show(frame);
  };
  socket.onclose = () => {
    status.textContent = 'reconnecting…';
    const delay = Math.min(30000, 500 * 2 ** attempt++) * (0.5 + Math.random() / 2);
    setTimeout(connect, delay);
  };
}

document.getElementById('composer').addEventListener('submit', (e) => {
  e.preventDefault();
  const name = nameInput.value.trim();
  if (name && name !== localStorage.getItem('roomchat.name')) {
    localStorage.setItem('roomchat.name', name);
    socket?.send(JSON.stringify({ type: 'rename', name }));
  }
  const text = textInput.value.trim();
  if (!text || socket?.readyState !== WebSocket.OPEN) return;
  socket.send(JSON.stringify({ type: 'message', text, clientMsgId: crypto.randomUUID() }));
  textInput.value = '';
});

connect();
