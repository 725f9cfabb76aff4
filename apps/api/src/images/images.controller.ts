import { Controller, Get, Param, Query, Req } from '@nestjs/common';

import { DomainError, DomainErrorCode, roleAllows } from '@app/common';

import { AuthenticatedRequest } from '../auth/api-key.guard';
import { RequireRole } from '../auth/roles.decorator';
import { isSignatureStatus, SIGNATURE_STATUSES } from '../signatures/signature-verdicts';
import { parseLimit } from './cursor';
import { ImageQueriesService } from './image-queries.service';
import { BaseChainEntry, FreshnessResponse, ImageDetail, ImageSummary, Page } from './image.views';

const STATUSES = ['fresh', 'stale', 'unknown'];

@Controller('v1')
@RequireRole('ci')
export class ImagesController {
  constructor(private readonly images: ImageQueriesService) {}

  @Get('freshness')
  freshness(@Query('image') image: string | undefined): Promise<FreshnessResponse> {
    if (!image) {
      throw new DomainError(
        DomainErrorCode.BadRequest,
        'The query parameter "image" is required, e.g. ?image=registry.example.com/team/app:1.0',
      );
    }
    return this.images.freshnessOf(image);
  }

  @Get('images')
  list(
    @Req() request: AuthenticatedRequest,
    @Query('status') status?: string,
    @Query('signature') signature?: string,
    @Query('registry') registry?: string,
    @Query('repository') repository?: string,
    @Query('tagged') tagged?: string,
    @Query('limit') limit?: string,
    @Query('cursor') cursor?: string,
  ): Promise<Page<ImageSummary>> {
    if (status !== undefined && !STATUSES.includes(status)) {
      throw new DomainError(
        DomainErrorCode.BadRequest,
        `status must be one of ${STATUSES.join(', ')}; got "${status}".`,
      );
    }
    if (signature !== undefined) assertSignatureFilter(signature, request);
    if (tagged !== undefined && tagged !== 'true' && tagged !== 'false') {
      throw new DomainError(
        DomainErrorCode.BadRequest,
        `tagged must be true or false; got "${tagged}".`,
      );
    }
    return this.images.listImages({
      status,
      signature,
      registry,
      repository,
      tagged: tagged === undefined ? undefined : tagged === 'true',
      limit: parseLimit(limit),
      cursor,
    });
  }

  @Get('images/:digest')
  detail(@Param('digest') digest: string): Promise<ImageDetail> {
    return this.images.imageDetail(digest);
  }

  @Get('images/:digest/lineage')
  lineage(
    @Param('digest') digest: string,
    @Query('limit') limit?: string,
    @Query('cursor') cursor?: string,
  ): Promise<{ digest: string; ancestors: BaseChainEntry[]; descendants: Page<BaseChainEntry> }> {
    return this.images.lineage(digest, parseLimit(limit, 100, 1000), cursor);
  }
}

/** Rejects the signature filter unless the key has the security role and the status is known. */
function assertSignatureFilter(signature: string, request: AuthenticatedRequest): void {
  const key = request.apiKey;
  if (key && !roleAllows(key.role, 'security')) {
    throw new DomainError(
      DomainErrorCode.Forbidden,
      `The signature filter needs the security role; the key ${key.prefix} has the ${key.role} role.`,
    );
  }
  if (!isSignatureStatus(signature)) {
    throw new DomainError(
      DomainErrorCode.BadRequest,
      `signature must be one of ${SIGNATURE_STATUSES.join(', ')}; got "${signature}".`,
    );
  }
}
