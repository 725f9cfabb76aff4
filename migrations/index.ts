import { CreateInitialSchema1764871200000 } from './1764871200000-CreateInitialSchema';

/** Every migration in order; the data source runs exactly these. */
export const MIGRATIONS = [CreateInitialSchema1764871200000];
