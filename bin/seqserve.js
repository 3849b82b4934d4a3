#!/usr/bin/env node
// The `seqserve` command (package.json "bin"): loads tsx (a runtime dependency) and runs src/cli.ts.
// Works from the repository (npx seqserve), after `npm link` and from a global install.
import 'tsx';

const { runProcess } = await import('../src/cli.ts');
await runProcess();
