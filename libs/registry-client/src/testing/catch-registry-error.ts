import { RegistryError } from '../errors';

/** Awaits `promise` and returns the RegistryError it rejects with. Throws if it resolves. */
export async function catchRegistryError(promise: Promise<unknown>): Promise<RegistryError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof RegistryError) {
      return error;
    }
    throw error;
  }
  throw new Error('Expected a RegistryError, but the call succeeded.');
}
