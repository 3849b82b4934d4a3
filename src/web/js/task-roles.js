// The dataset columns each task reads (required first, then optional): a copy of TASK_ROLES in
// src/tasks/task-data.ts, checked equal by test/unit/web-mirrors.test.ts.
export const TASK_ROLES = {
  generate: ['text'],
  summarize: ['source', 'target', 'group'],
  translate: ['source', 'target', 'group'],
  qa: ['question', 'answer', 'context', 'group'],
  classify: ['text', 'label', 'group'],
  chat: ['messages', 'prompt', 'response', 'group'],
};
