import { SetMetadata } from '@nestjs/common';

import type { ApiKeyRoleName } from '@app/common';

export const REQUIRED_ROLE = 'requiredRole';
export const PUBLIC_ROUTE = 'publicRoute';

/** The least privileged role that may call the route. */
export const RequireRole = (role: ApiKeyRoleName) => SetMetadata(REQUIRED_ROLE, role);

/** Routes without an API key: health, metrics and the webhook (which checks its own token). */
export const PublicRoute = () => SetMetadata(PUBLIC_ROUTE, true);
