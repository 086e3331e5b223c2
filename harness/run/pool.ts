// A bounded pool: at most `width` tasks in flight, results in task order.

/** Runs `tasks` with at most `width` at a time. */
export function runBounded<T>(tasks: readonly (() => Promise<T>)[], width: number): Promise<T[]>;
/** The same, starting no further task once `stop()` holds (those results stay undefined). */
export function runBounded<T>(tasks: readonly (() => Promise<T>)[], width: number, stop: () => boolean): Promise<(T | undefined)[]>;
export async function runBounded<T>(tasks: readonly (() => Promise<T>)[], width: number, stop: () => boolean = () => false): Promise<(T | undefined)[]> {
  const results = new Array<T | undefined>(tasks.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < tasks.length && !stop(); i = next++) {
      const task = tasks[i];
      if (task) results[i] = await task();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(width, tasks.length)) }, worker));
  return results;
}
