// Closing the API's training queue while Redis is unreachable must not crash the process: BullMQ's
// RedisConnection re-emits the failed first connect as 'error' after its close removed every listener
// (seen as an unhandled ECONNREFUSED ending test runs). The close is timed to land while the client
// is mid-connect, the window in which ioredis ends the client and the pending connect rejects.
import t from 'tap';
import { TrainingQueue } from '../../src/queue/training-queue.ts';

t.test('close while Redis is down and the client is connecting: no unhandled error', async (t) => {
  const faults: string[] = [];
  const onFault = (e: unknown) => faults.push((e as Error).message);
  process.on('unhandledRejection', onFault);
  process.on('uncaughtException', onFault);
  t.teardown(() => {
    process.off('unhandledRejection', onFault);
    process.off('uncaughtException', onFault);
  });
  let closedMidConnect = 0;
  for (let i = 0; i < 8; i++) {
    const q = new TrainingQueue({ redisUrl: 'redis://127.0.0.1:1', prefix: 'queue-close-test', attempts: 1 });
    const client = (q as unknown as { redis: { status: string } }).redis;
    await new Promise((r) => setTimeout(r, 20 + i * 15));
    const deadline = Date.now() + 3000;
    while (client.status !== 'connecting' && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    if (client.status === 'connecting') closedMidConnect++;
    await q.close();
  }
  await new Promise((r) => setTimeout(r, 500));
  t.ok(closedMidConnect > 0, `${closedMidConnect} of 8 closes landed mid-connect`);
  t.same(faults, [], 'no unhandled error or rejection');
});
