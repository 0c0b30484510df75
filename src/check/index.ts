export {
  checkBuild,
  compareUntrimmed,
  bisect,
  type CheckedImage,
  type CheckEvent,
  type CheckOptions,
  type CheckReport,
  type CheckSubject,
  type ImageTests,
  type TestOutcome,
  type UntrimmedComparison,
} from './check.js';
