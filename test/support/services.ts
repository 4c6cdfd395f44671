import { randomBytes } from 'node:crypto';
import { testServices } from '../../config/test-services.ts';

export const services = testServices();

/** A MongoDB URI for a fresh database private to one test file, so parallel jest workers never collide. */
export function isolatedMongoUri(label: string): string {
  const url = new URL(services.mongodbUri);
  url.pathname = `/t_${label.replace(/[^a-z0-9]/gi, '_').slice(0, 24)}_${randomBytes(4).toString('hex')}`;
  return url.toString();
}
