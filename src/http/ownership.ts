/**
 * Ownership checks of the routes (docs/auth.md): a key without `admin` sees only the jobs,
 * datasets and sessions its own name created; anything else answers exactly as if it did not
 * exist (same code, same message), so ids of other keys' things cannot be probed.
 */
import { ServiceError } from '../errors.ts';
import { canSee, ownerFilter, type Principal } from '../auth/scopes.ts';
import type { JobView, TrainingQueue } from '../queue/training-queue.ts';
import type { DatasetInfo, DatasetStore } from '../train/datasets.ts';

export const jobNotFound = (id: string) => new ServiceError('job_not_found', `no training job with id ${id}`);

/** The job `id` if `p` may see it; else job_not_found, as for an absent job. */
export async function visibleJob(queue: TrainingQueue, id: string, p: Principal | null): Promise<JobView> {
  const view = await queue.get(id);
  if (!canSee(p, view.owner)) throw jobNotFound(id);
  return view;
}

export function seesDataset(p: Principal | null, info: Pick<DatasetInfo, 'owners'>): boolean {
  const only = ownerFilter(p);
  return only === null || (info.owners ?? []).includes(only);
}

/** The dataset `id` if `p` may see it; else dataset_not_found, as for an absent one. */
export async function visibleDataset(datasets: DatasetStore, id: string, p: Principal | null): Promise<DatasetInfo> {
  const info = await datasets.get(id);
  if (!seesDataset(p, info)) throw new ServiceError('dataset_not_found', `dataset ${id} not found`);
  return info;
}
