import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';

import { RequireRole } from '../auth/roles.decorator';
import { ImageSignaturesView, VerificationRequestView } from './signature.views';
import { SignaturesService } from './signatures.service';

/** Signature details and verification requests, for the security team and admins. */
@Controller('v1/images/:digest')
@RequireRole('security')
export class SignaturesController {
  constructor(private readonly signatures: SignaturesService) {}

  @Get('signatures')
  list(@Param('digest') digest: string): Promise<ImageSignaturesView> {
    return this.signatures.signaturesOf(digest);
  }

  @Post('verify')
  @HttpCode(202)
  verify(@Param('digest') digest: string): Promise<VerificationRequestView> {
    return this.signatures.requestVerification(digest);
  }
}
