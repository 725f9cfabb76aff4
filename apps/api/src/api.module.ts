import { DynamicModule, MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Logger } from 'pino';

import { RootLoggerModule, ServiceMetrics } from '@app/common';
import { AppConfig, ConfigModule } from '@app/config';
import { ApiKeyEntity, PersistenceModule } from '@app/persistence';
import { QueueModule } from '@app/queue';

import { ApiKeyGuard } from './auth/api-key.guard';
import { ApiKeysController } from './auth/api-keys.controller';
import { ApiKeysService } from './auth/api-keys.service';
import { DeliveriesController, DeliveriesService } from './deliveries/deliveries.controller';
import { HealthController, QueueDepthCollector } from './health/health.controller';
import { BodyReaderMiddleware } from './http/body-reader.middleware';
import { ProblemDetailsFilter } from './http/problem-details.filter';
import { ImageQueriesService } from './images/image-queries.service';
import { ImagesController } from './images/images.controller';
import { SignatureVerdictsService } from './signatures/signature-verdicts.service';
import { SignaturesController } from './signatures/signatures.controller';
import { SignaturesService } from './signatures/signatures.service';
import { TrustPolicyController } from './trust-policy/trust-policy.controller';
import { TrustPolicyService } from './trust-policy/trust-policy.service';
import { WebhooksController } from './webhooks/webhooks.controller';
import { OutboxBatcher } from './webhooks/outbox-batcher.service';
import { WebhooksService } from './webhooks/webhooks.service';

@Module({})
export class ApiModule implements NestModule {
  static forRoot(config: AppConfig, logger: Logger, metrics = new ServiceMetrics()): DynamicModule {
    return {
      module: ApiModule,
      imports: [
        ConfigModule.forRoot(config),
        RootLoggerModule.forRoot(logger),
        PersistenceModule.forRoot(config),
        TypeOrmModule.forFeature([ApiKeyEntity]),
        QueueModule.forRoot(config),
        TerminusModule.forRoot({ errorLogStyle: 'json', logger: false }),
      ],
      controllers: [
        WebhooksController,
        ImagesController,
        SignaturesController,
        TrustPolicyController,
        DeliveriesController,
        ApiKeysController,
        HealthController,
      ],
      providers: [
        { provide: ServiceMetrics, useValue: metrics },
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        ApiKeysService,
        WebhooksService,
        OutboxBatcher,
        ImageQueriesService,
        SignatureVerdictsService,
        SignaturesService,
        TrustPolicyService,
        DeliveriesService,
        QueueDepthCollector,
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(BodyReaderMiddleware).forRoutes('*');
  }
}
