import { join } from 'node:path';
import { outputContract } from '../contract.case.test.js';
import { tarWriter } from './writer.js';

outputContract('tar', {
  writer: tarWriter,
  rootfsTar: async (outDir) => join(outDir, 'rootfs.tar'),
});
