/**
 * A test hook, read here and nowhere else: JEOS_TEST_CRASH_AT=publish:<point> (or promote:,
 * resign:) kills this process with SIGKILL when a channel change reaches that point, so a test
 * can check what a reader of the channel sees afterwards. The points are the names commit.ts passes.
 */
export function crashPoint(operation: string, point: string): void {
  const at = process.env.JEOS_TEST_CRASH_AT;
  if (at && at === `${operation}:${point}`) process.kill(process.pid, 'SIGKILL');
}
