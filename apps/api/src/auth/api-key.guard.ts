import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';

import { ApiKeyRoleName, DomainError, DomainErrorCode, roleAllows } from '@app/common';

import { ApiKeysService, AuthenticatedKey } from './api-keys.service';
import { PUBLIC_ROUTE, REQUIRED_ROLE } from './roles.decorator';

export interface AuthenticatedRequest extends Request {
  apiKey?: AuthenticatedKey;
}

/** Requires an API key on every route not marked public, and the role the route names. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly apiKeys: ApiKeysService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;

    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const presented = readPresentedKey(request);
    if (!presented) {
      throw new DomainError(
        DomainErrorCode.Unauthorized,
        'An API key is required: send "Authorization: Bearer <key>" or "X-API-Key: <key>".',
      );
    }
    const key = await this.apiKeys.authenticate(presented);
    if (!key)
      throw new DomainError(DomainErrorCode.Unauthorized, 'The API key is invalid or revoked.');

    const required =
      this.reflector.getAllAndOverride<ApiKeyRoleName>(REQUIRED_ROLE, targets) ?? 'admin';
    if (!roleAllows(key.role, required)) {
      throw new DomainError(
        DomainErrorCode.Forbidden,
        `This route needs the ${required} role; the key ${key.prefix} has the ${key.role} role.`,
      );
    }
    request.apiKey = key;
    return true;
  }
}

function readPresentedKey(request: Request): string | undefined {
  const header = request.headers['x-api-key'];
  if (typeof header === 'string' && header.length > 0) return header.trim();
  const authorization = request.headers.authorization;
  const match = authorization ? /^Bearer\s+(\S+)$/i.exec(authorization) : null;
  return match?.[1];
}
