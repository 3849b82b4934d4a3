// The chat view of Try: a multi-turn conversation over /ws `chat` frames with a session, so the
// server keeps the model state at the end of each turn. The first turn sends the whole conversation
// (`messages`); later turns send only the new `message`. When the server no longer has the session
// (session_expired: evicted, expired, restarted) the turn is sent again with the whole conversation.
import { $, el, alertMessage } from './dom.js';
import { socket } from './api.js';
import { readParameters } from './params.js';

const newSessionId = () => `pg-${crypto.getRandomValues(new Uint32Array(2)).join('-')}`;

let ui = null; // {current, setRunning, describeDetails, renderCode} from try.js
let history = []; // user and assistant messages so far (the system message is read from its field)
let sessionId = newSessionId();
let sessionKept = false; // the server holds our session (a turn on it completed)

function systemMessage() {
  const s = $('chat-system').value.trim();
  return s ? [{ role: 'system', content: s }] : [];
}

function addBubble(role, text) {
  const body = el('p', { class: 'text' }, text);
  const item = el('li', { class: `msg ${role}` }, el('span', { class: 'role' }, role === 'user' ? 'You' : 'Model'), body);
  $('chat-log').append(item);
  item.scrollIntoView({ block: 'nearest' });
  return { item, body };
}

async function turn(message, whole) {
  const { ref } = ui.current();
  const parameters = readParameters('chat');
  const frame = {
    type: 'chat',
    model: ref,
    session: sessionId,
    ...(whole ? { messages: [...systemMessage(), ...history, { role: 'user', content: message }] } : { message }),
    ...(Object.keys(parameters).length ? { parameters } : {}),
  };
  const reply = addBubble('assistant', '');
  reply.item.classList.add('streaming');
  return new Promise((resolve) => {
    socket
      .request(frame, {
        onToken: (f) => {
          reply.body.textContent += f.text;
          reply.item.dataset.tokens = String(Number(reply.item.dataset.tokens ?? 0) + 1);
        },
        onDone: (f) => {
          reply.body.textContent = f.text;
          reply.item.classList.remove('streaming');
          const d = f.details;
          reply.item.append(el('span', { class: 'details' }, `${ui.describeDetails(d)} · session ${sessionId}`));
          reply.item.dataset.cachedTokens = String(d.cached_tokens ?? 0);
          reply.item.dataset.session = sessionId;
          history.push({ role: 'user', content: message }, { role: 'assistant', content: f.text });
          // A cancelled turn may or may not be kept: the next turn rebuilds from the whole conversation.
          sessionKept = d.finish_reason !== 'cancelled';
          resolve('done');
        },
        onError: (err) => {
          reply.item.remove();
          resolve(err);
        },
      })
      .then((handle) => ui.setRunning(handle), (err) => resolve(err));
  });
}

export const chat = {
  init(tryUi) {
    ui = tryUi;
    $('chat-send').addEventListener('click', () => chat.send());
    $('chat-new').addEventListener('click', () => chat.reset(ui.current().name));
    $('chat-message').addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        chat.send();
      }
    });
  },

  /** The conversation the next turn would send, ending with `message` (for the code view). */
  messagesWith(message) {
    return [...systemMessage(), ...history, { role: 'user', content: message }];
  },

  /** Starts a new conversation (new session id). */
  reset() {
    history = [];
    sessionId = newSessionId();
    sessionKept = false;
    $('chat-log').replaceChildren();
    $('chat-session').textContent = sessionId;
  },

  async send() {
    const input = $('chat-message');
    const message = input.value.trim();
    if (!message || $('chat-send').disabled) return; // one turn at a time
    alertMessage('');
    addBubble('user', message);
    input.value = '';
    let result = await turn(message, !sessionKept);
    if (result !== 'done' && result.code === 'session_expired') result = await turn(message, true);
    ui.setRunning(null);
    if (result !== 'done') {
      $('chat-log').lastElementChild?.remove(); // the user's bubble: the turn did not happen
      input.value = message;
      alertMessage(result.message);
    }
    ui.renderCode();
    input.focus();
  },
};
