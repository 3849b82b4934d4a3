// The request on the Try form as code to copy: curl against the native endpoint (or /v1 for chat)
// and the official `openai` npm client against /v1. The key is never written into the code: it is
// read from $SEQSERVE_API_KEY when one is set on the page.

/** The parameters /v1 takes under OpenAI's names; the rest exist only on the native endpoints. */
function toOpenAi(parameters) {
  const out = {};
  const rest = [];
  for (const [k, v] of Object.entries(parameters)) {
    if (k === 'max_new_tokens') out.max_tokens = v;
    else if (['temperature', 'top_p', 'seed', 'stop', 'presence_penalty', 'frequency_penalty'].includes(k)) out[k] = v;
    else if (k === 'do_sample' && v === false) out.temperature = 0;
    else if (k !== 'do_sample') rest.push(k);
  }
  return { out, rest };
}

const shellQuote = (s) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Indented JSON-ish object literal for JS code. */
const jsObject = (o) => JSON.stringify(o, null, 2).replace(/\n/g, '\n  ');

/**
 * `req`: {task, model, body (the native HTTP body), messages (chat: the whole conversation)}.
 * Returns {curl, openai}.
 */
export function snippets(req, { origin, withKey }) {
  const auth = withKey ? ` \\\n  -H "Authorization: Bearer $SEQSERVE_API_KEY"` : '';
  const keyArg = withKey ? 'process.env.SEQSERVE_API_KEY' : "'unused'";
  const head = `import OpenAI from 'openai';\nconst client = new OpenAI({ baseURL: '${origin}/v1', apiKey: ${keyArg} });\n`;
  const { out, rest } = toOpenAi(req.body.parameters ?? {});
  const restNote = rest.length ? `// only on POST /${req.task} (not in OpenAI's API): ${rest.join(', ')}\n` : '';

  if (req.task === 'chat') {
    const body = { model: req.model, messages: req.messages, ...out };
    return {
      curl: `curl -s ${origin}/v1/chat/completions -H 'content-type: application/json'${auth} \\\n  -d ${shellQuote(JSON.stringify(body))}`,
      openai:
        head +
        restNote +
        '// sessions (the server keeps the model state between turns) are a WebSocket feature: {"type":"chat","session":…}\n' +
        `const r = await client.chat.completions.create(${jsObject(body)});\nconsole.log(r.choices[0].message.content);\n`,
    };
  }
  const curl = `curl -s ${origin}/${req.task} -H 'content-type: application/json'${auth} \\\n  -d ${shellQuote(JSON.stringify(req.body))}`;
  if (req.task === 'classify') return { curl, openai: "// classifiers are not served by OpenAI's API: use POST /classify (the curl above)\n" };
  if (req.task === 'qa' && req.body.context) {
    return { curl, openai: "// /v1/completions answers questions without a context only: use POST /qa (the curl above) for a question with a context\n" };
  }
  const prompt = req.body.prompt ?? req.body.text ?? req.body.question;
  const body = { model: req.model, prompt, ...out };
  return {
    curl,
    openai: head + restNote + `const r = await client.completions.create(${jsObject(body)});\nconsole.log(r.choices[0].text);\n`,
  };
}
