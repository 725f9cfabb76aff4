import { Controller, Headers, HttpCode, Param, Post, Req } from '@nestjs/common';

import { PublicRoute } from '../auth/roles.decorator';
import { RequestWithRawBody } from '../http/body-reader.middleware';
import { WebhookReceipt, WebhooksService } from './webhooks.service';

@Controller('v1/webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  /** Intake for CNCF Distribution notifications; authenticated by the registry's webhook token. */
  @Post('distribution/:registry')
  @PublicRoute()
  @HttpCode(202)
  receive(
    @Param('registry') registry: string,
    @Headers('authorization') authorization: string | undefined,
    @Headers('content-type') contentType: string | undefined,
    @Req() request: RequestWithRawBody,
  ): Promise<WebhookReceipt> {
    return this.webhooks.receive({
      registry,
      authorization,
      contentType,
      body: request.rawBody ?? Buffer.alloc(0),
      requestId: String(request.id ?? ''),
    });
  }
}
