import { CreateInitialSchema1764871200000 } from './1764871200000-CreateInitialSchema';
import { AddSignaturesAndTrustPolicy1764878400000 } from './1764878400000-AddSignaturesAndTrustPolicy';

/** Every migration in order; the data source runs exactly these. */
export const MIGRATIONS = [
  CreateInitialSchema1764871200000,
  AddSignaturesAndTrustPolicy1764878400000,
];
