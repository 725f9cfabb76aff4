import { Body, Controller, Get, HttpCode, Post, Put, Query, Req } from '@nestjs/common';

import { DomainError, DomainErrorCode } from '@app/common';

import { AuthenticatedRequest } from '../auth/api-key.guard';
import type { AuthenticatedKey } from '../auth/api-keys.service';
import { RequireRole } from '../auth/roles.decorator';
import type { RequestWithRawBody } from '../http/body-reader.middleware';
import { parseLimit } from '../images/cursor';
import type { Page } from '../images/image.views';
import { readPolicyJsonImport } from './policy-json-import';
import { parseTrustPolicyUpdate } from './trust-policy.schema';
import { TrustPolicyService } from './trust-policy.service';
import {
  SavedTrustPolicyView,
  TrustPolicyExportView,
  TrustPolicyVersionView,
} from './trust-policy.views';

type PolicyRequest = AuthenticatedRequest & RequestWithRawBody;

/** Trust policy reads and edits, for the security team and admins. */
@Controller('v1/trust-policy')
@RequireRole('security')
export class TrustPolicyController {
  constructor(private readonly trustPolicy: TrustPolicyService) {}

  @Get()
  current(): Promise<TrustPolicyVersionView> {
    return this.trustPolicy.current();
  }

  @Put()
  @HttpCode(200)
  replace(@Body() body: unknown, @Req() request: PolicyRequest): Promise<SavedTrustPolicyView> {
    return this.trustPolicy.replace(parseTrustPolicyUpdate(body), authorOf(request));
  }

  @Post('import')
  @HttpCode(201)
  importPolicyJson(
    @Req() request: PolicyRequest,
    @Query('comment') comment?: string,
  ): Promise<SavedTrustPolicyView> {
    const importRequest = readPolicyJsonImport(request.rawBody, comment);
    return this.trustPolicy.importPolicyJson(importRequest, authorOf(request));
  }

  @Get('export')
  exportPolicyJson(): Promise<TrustPolicyExportView> {
    return this.trustPolicy.exportCurrent();
  }

  @Get('history')
  history(
    @Query('limit') limit?: string,
    @Query('cursor') cursor?: string,
  ): Promise<Page<TrustPolicyVersionView>> {
    return this.trustPolicy.history(parseLimit(limit), cursor);
  }
}

/** The API key the guard authenticated; every save records it. */
function authorOf(request: AuthenticatedRequest): AuthenticatedKey {
  if (!request.apiKey) {
    throw new DomainError(DomainErrorCode.Unauthorized, 'An API key is required to save a policy.');
  }
  return request.apiKey;
}
