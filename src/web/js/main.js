// The playground's entry: three tabs (Models, Try, Train) addressed by the URL hash — #models,
// #try/<model>, #train/<job id> — so a reload or a shared link lands on the same view; and the API
// key field (kept in sessionStorage, see api.js).
import { $, alertMessage } from './dom.js';
import { apiKey, socket } from './api.js';
import { initModels, showModels } from './models.js';
import { initTry, showTry } from './try.js';
import { initTrain, showTrain } from './train.js';
import { stopFollowing } from './job-view.js';

const TABS = { models: showModels, try: showTry, train: showTrain };

async function route() {
  const [tab, arg] = location.hash.replace(/^#/, '').split('/');
  const name = tab in TABS ? tab : 'models';
  for (const t of Object.keys(TABS)) {
    $(t).hidden = t !== name;
    const link = $(`tab-${t}`);
    if (t === name) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  if (name !== 'train' || !arg) stopFollowing();
  if (name !== 'train' || !arg) $('job').hidden = true;
  try {
    await TABS[name](arg ? decodeURIComponent(arg) : undefined);
  } catch (err) {
    alertMessage(err.message);
  }
}

function initKey() {
  const input = $('api-key');
  input.value = apiKey.get();
  $('key-form').addEventListener('submit', (e) => {
    e.preventDefault();
    apiKey.set(input.value.trim());
    $('key-state').textContent = input.value.trim() ? 'key set for this tab' : 'no key';
    void route();
  });
  $('key-state').textContent = input.value ? 'key set for this tab' : 'no key';
}

socket.onStrayError = (err) => alertMessage(err.message);
initKey();
initModels();
initTry();
initTrain();
window.addEventListener('hashchange', route);
void route();
